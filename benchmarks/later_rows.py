"""Benchmark (not a test): the comparison table's rows of the chapters after notebook 10, with the
DCGAN and WGAN-GP rows beside them from the same run, recorded for notebook 10.

Notebook 10 runs before notebooks 11-14 and scores only the rows it can afford to train; the later
chapters' models (`table.register_row(..., chapter=12)` and later) are trained here by the
command line, exactly as `python -m course_lib train MODEL --schedule full` does (the same recipe,
checkpoint, 10,000 samples and scores against the test set), one after the other, and their
scores are stored as the recorded run `later_rows` (the training seconds are left out of the
notebook's table when the machine was shared).

    .venv/bin/python benchmarks/later_rows.py [--models dcgan wgan-gp ...] [--out FOLDER]
        [--dataset fashion-mnist] [--record later_rows [--merge]]
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

from course_lib import __main__ as cli
from course_lib import recorded, table

REFERENCE_ROWS = ("DCGAN", "WGAN-GP")  # the rows the later models are compared with
KEPT = ("fid", "precision", "recall", "density", "coverage", "is", "diversity", "class_share",
        "seconds", "device")


def default_models():
    later = [spec.name for spec in table.available_rows() if (spec.chapter or 0) >= 12]
    return [cli.model_key(name) for name in (*REFERENCE_ROWS, *later)]


def score(key, dataset, schedule, out, seed):
    """Train (or load) one row's model with the command line and return its scores."""
    if cli.main(["train", key, "--schedule", schedule, "--dataset", dataset, "--out", str(out),
                 "--seed", str(seed)]) != 0:
        raise RuntimeError(f"the command line failed for {key}")
    scores = json.loads((Path(out) / f"{key}-{dataset}-{schedule}.json").read_text())
    return {name: scores.get(name) for name in (*KEPT, "model")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=None, help="command-line names (default: "
                        "the DCGAN, WGAN-GP and every row of chapter 12 or later)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--schedule", default="full", choices=("smoke", "full"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="checkpoints (default: a temp folder)")
    parser.add_argument("--record", default=None, help="store the results as this recorded run")
    parser.add_argument("--merge", action="store_true", help="keep the recorded run's other rows")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="later-rows-"))
    machine = f"CPU, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{machine}; checkpoints in {out}", flush=True)
    results = {}
    for key in args.models or default_models():
        scores = score(key, args.dataset, args.schedule, out, args.seed)
        results[scores.pop("model")] = scores
        print(table.table_markdown(results), flush=True)
    if args.record:
        if args.merge:  # rows measured by an earlier invocation are kept unless measured again
            results = {**recorded.load_recorded(args.record)["results"], **results}
        recorded.save_recorded(args.record, {
            "dataset": args.dataset, "schedule": args.schedule, "machine": machine,
            "date": datetime.date.today().isoformat(), "split": "scores against the test set, as the table",
            "seed": args.seed, "command": "python benchmarks/later_rows.py --record " + args.record,
            "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
