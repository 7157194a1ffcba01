"""The course's command line: train or score any model of the comparison table (notebook 10).

    python -m course_lib list
    python -m course_lib train MODEL [--schedule S] [--dataset D] [--device X] [--out DIR]
    python -m course_lib evaluate MODEL [same options]

`train` loads the model's checkpoint if present, else trains and saves it (the same recipe and
checkpoint the notebooks use), then writes MODEL.png (a sample grid) and MODEL.json (its scores
under the evaluator). `evaluate` does the same but refuses to train: it scores a checkpoint.
Checkpoints go to --out (default $COURSE_CHECKPOINTS); point COURSE_CHECKPOINTS at the same
folder when running the notebooks and they load the pre-trained models instead of training.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from . import checkpoints, data, evaluator, plots, runtime, table


def model_key(name):
    """'PCA sampler (k = 16)' -> 'pca-sampler-k-16': the command-line name of a table row."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


MIN_SAMPLES = 10  # the Inception Score averages over 10 splits of the samples


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line, without the usage block (exit code 2)."""

    def error(self, message):
        self.exit(2, f"error: {message}; see `{self.prog} --help`.\n")


def whole_number(minimum, maximum=None, what="a whole number"):
    """An argparse type: an int in [minimum, maximum], refused (never replaced) otherwise."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


def parse_args(argv):
    parser = OneLineParser(prog="python -m course_lib", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the models that can be trained or evaluated")
    for command, text in [("train", "train (or load) a model, save its samples and scores"),
                          ("evaluate", "score an existing checkpoint (never trains the model)")]:
        sub = commands.add_parser(command, help=text)
        sub.add_argument("model", help="a name from `python -m course_lib list`")
        sub.add_argument("--schedule", choices=("smoke", "full"), help="default: $COURSE_SCHEDULE or full")
        sub.add_argument("--dataset", help="mnist or fashion-mnist (default: $COURSE_DATASET or mnist)")
        sub.add_argument("--device", help="auto, cuda, mps or cpu (default: $COURSE_DEVICE or auto)")
        sub.add_argument("--out", type=Path, help="folder for checkpoints, PNG and JSON "
                                                  "(default: $COURSE_CHECKPOINTS)")
        sub.add_argument("--samples", default=None, type=whole_number(
            MIN_SAMPLES, what=f"a whole number of samples, at least {MIN_SAMPLES} (the Inception "
                              "Score splits them into 10 parts)"),
                         help=f"samples to score, at least {MIN_SAMPLES} "
                              "(default: 10,000 full, 1,000 smoke)")
        sub.add_argument("--seed", default=0, type=whole_number(
            0, 2**64 - 1, what="a whole number from 0 to 2**64 - 1"), help="default: 0")
    return parser.parse_args(argv)


def find_row(key, rows):
    by_key = {model_key(spec.name): spec for spec in rows}
    if key not in by_key:
        raise ValueError(f"Unknown model {key!r}: expected one of {', '.join(by_key)} "
                         "(`python -m course_lib list` describes them).")
    return by_key[key]


def run(args):
    # Every option is resolved and checked before any work, so a bad one never costs a training
    # run; the resolved values are passed down (nothing is written to the environment).
    spec = find_row(args.model, table.available_rows())
    schedule, device = runtime.get_schedule(args.schedule), runtime.get_device(args.device)
    dataset = data.dataset_name(args.dataset)
    store = checkpoints.Store(args.out, train_missing=args.command == "train")
    checkpoints.check_writable_folder(store.folder)
    runtime.seed_everything(args.seed)
    ds = data.load_image_data(dataset, device=device, scale="unit", seed=args.seed,
                              **{k: evaluator.DEFAULTS[schedule][k] for k in ("train_size", "test_size")})
    runtime.describe_run(dataset=ds.name, device=device, schedule=schedule)
    context = table.TableContext(ds=ds, schedule=schedule, device=device, seed=args.seed, store=store)
    classifier, _ = evaluator.load_evaluator(ds.name, schedule, device, seed=args.seed, store=store)
    row = spec.loader(context)
    n = args.samples if args.samples is not None else runtime.by_schedule(
        smoke=1_000, full=10_000, schedule=schedule)
    samples = row.sample(n, torch.Generator().manual_seed(args.seed))
    scores = evaluator.evaluate_samples(classifier, samples, ds.x_test)
    scores.update(row.extra, class_share=table.requested_class_share(classifier, row, samples),
                  model=spec.name, dataset=ds.name, schedule=schedule,
                  seconds=row.seconds, device=row.device)

    stem = store.folder / f"{model_key(spec.name)}-{ds.name}-{schedule}"
    grid, report = plots.image_grid(samples[:64], nrow=8), json.dumps(scores, indent=2, default=float)
    checkpoints.atomic_write(f"{stem}.png", lambda f: plt.imsave(f, grid, cmap="gray", vmin=0,
                                                                 vmax=1, format="png"))
    checkpoints.atomic_write(f"{stem}.json", lambda f: f.write(f"{report}\n".encode()))
    print(table.table_markdown({spec.name: scores}))
    print(f"wrote {stem}.png and {stem}.json")
    return scores


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "list":
        for spec in table.available_rows():
            print(f"{model_key(spec.name):<50} {spec.name}")
        return 0
    # OSError covers the data errors (DataNotFoundError, DataFolderError) and any file or folder
    # the user named or shares; ValueError every bad name or value (DataIntegrityError too);
    # FloatingPointError a training run that diverged or produced NaN (nothing was saved).
    expected = (checkpoints.CheckpointError, runtime.DeviceUnavailableError, ValueError, OSError,
                FloatingPointError)
    try:
        run(args)
    except expected as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)  # one line, always
        return 2
    except KeyboardInterrupt:  # atomic writes leave no half-written file behind
        print("interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
