"""Recorded runs: results that take longer to reproduce than a notebook may run (several seeds,
CPU-hours), quoted by the notebooks as labelled reference runs.

Every value lives in one data file, `recorded_runs.json` beside this module, one entry per run.
Each entry says what it is (dataset, schedule, machine, date) and the single command that
regenerates it; a notebook never types such a number into its prose, it prints `describe(entry)`
and the values from here.
"""

import json
from importlib import resources
from pathlib import Path

RECORDED_FILE = Path(str(resources.files(__package__) / "recorded_runs.json"))
LABEL_KEYS = ("dataset", "schedule", "machine", "date", "command")


def load_recorded(name, path=None):
    """The recorded run `name` (a dict with at least LABEL_KEYS and "results")."""
    runs = json.loads(Path(path or RECORDED_FILE).read_text())
    if name not in runs:
        raise KeyError(f"no recorded run {name!r} in {path or RECORDED_FILE}; recorded: {sorted(runs)}.")
    return runs[name]


def save_recorded(name, entry, path=None):
    """Add or replace the run `name`; the entry must carry its label (LABEL_KEYS) and "results"."""
    missing = [key for key in (*LABEL_KEYS, "results") if key not in entry]
    if missing:
        raise ValueError(f"a recorded run needs {missing} to say what it is and how to redo it.")
    path = Path(path or RECORDED_FILE)
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[name] = entry
    path.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")


def describe(entry):
    """One line that labels a recorded run wherever its numbers are shown."""
    return (f"recorded run: {entry['dataset']}, {entry['schedule']} schedule, {entry['machine']}, "
            f"{entry['date']}; regenerate with `{entry['command']}`")
