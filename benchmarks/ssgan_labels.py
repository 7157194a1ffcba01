"""Benchmark (not a test): notebook 11's semi-supervised GAN against the same classifier trained on
the 100 labels alone and on all labels, over several seeds.

For each seed s: draw 10 labelled images per class from the training images minus the selection
split (the last 10,000 training images, `evaluator.heldout_split`), then train with `ssgan`'s recipe
(seed s, the same network and steps in every mode)
- "semi-supervised GAN": the K+1 discriminator on the 100 labels plus every image without its label;
- "100 labels only": the same classifier on the same 100 labelled images, no generator;
- "all labels": the same classifier on every training image with its label (the ceiling).
Each is scored by its accuracy on the selection split (where settings are chosen) and on the test
set. Prints every run, the mean and standard deviation over seeds, and the gains paired by seed.

    .venv/bin/python benchmarks/ssgan_labels.py --seeds 3 [--steps 1500] [--hidden 500 250 250]
        [--dataset fashion-mnist] [--out FOLDER] [--record ssgan_labels]

--record NAME stores the results as a labelled recorded run in course_lib/recorded_runs.json,
which notebook 11 prints.
"""

import argparse
import datetime
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from course_lib import checkpoints, data, evaluator, recorded, runtime, ssgan

MODES = {
    "semi-supervised GAN": {},
    "100 labels only": dict(supervised_only=True),
    "all labels": dict(supervised_only=True, per_class=0),
}
GAINS = (("semi-supervised GAN", "100 labels only"), ("all labels", "semi-supervised GAN"))


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def run_seed(seed, ds, fit, select, settings, device, store):
    """{"seed": seed, mode: {"select", "test", "seconds"}} for every mode of MODES."""
    (x_fit, y_fit), (x_select, y_select) = fit, select
    row = {"seed": seed}
    for mode, options in MODES.items():
        runtime.seed_everything(seed)
        classifier, _, meta = ssgan.load_or_train_ssgan(x_fit, y_fit, ds.name, "full", device, seed=seed,
                                                        progress=False, store=store, **settings, **options)
        row[mode] = {"select": ssgan.accuracy(classifier, x_select, y_select),
                     "test": ssgan.accuracy(classifier, ds.x_test, ds.y_test), "seconds": meta["seconds"]}
        print(f"seed {seed}  {mode:<20} selection accuracy {row[mode]['select']:.4f}  test accuracy "
              f"{row[mode]['test']:.4f}  ({meta['seconds']:.0f} s)", flush=True)
    return row


def summarise(runs):
    """Mean and sd of each mode's accuracies; the paired gains of GAINS with their standard error."""
    summary = {}
    for mode in MODES:
        for split in ("select", "test"):
            summary[f"{mode} {split}_mean"], summary[f"{mode} {split}_sd"] = mean_sd(
                [r[mode][split] for r in runs])
    for better, worse in GAINS:
        for split in ("select", "test"):
            gaps = [r[better][split] - r[worse][split] for r in runs]
            mean, sd = mean_sd(gaps)
            summary[f"{better} - {worse} {split}"] = {"mean": mean, "se": sd / math.sqrt(len(gaps)),
                                                      "per_seed": gaps}
    return summary


def print_summary(summary, n):
    print(f"\nmean ± sd over {n} seeds")
    for mode in MODES:
        print(f"{mode:<20} " + "  ".join(
            f"{split} {summary[f'{mode} {split}_mean']:.4f} ± {summary[f'{mode} {split}_sd']:.4f}"
            for split in ("select", "test")))
    for better, worse in GAINS:
        for split in ("select", "test"):
            gap = summary[f"{better} - {worse} {split}"]
            print(f"{better} - {worse}, {split}: {gap['mean']:+.4f} ± {gap['se']:.4f} (se); per seed "
                  + ", ".join(f"{g:+.4f}" for g in gap["per_seed"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=ssgan.DEFAULTS["full"]["steps"])
    parser.add_argument("--batch-size", type=int, default=ssgan.DEFAULTS["full"]["batch_size"])
    parser.add_argument("--hidden", type=int, nargs="+", default=list(ssgan.SSGANConfig.hidden))
    parser.add_argument("--lr", type=float, default=ssgan.SSGANConfig.lr)
    parser.add_argument("--unsupervised-weight", type=float, default=ssgan.SSGANConfig.unsupervised_weight)
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints (default: a temp dir)")
    parser.add_argument("--record", default=None, metavar="NAME",
                        help="store the results in course_lib/recorded_runs.json under NAME")
    args = parser.parse_args()
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2: the gains are paired over seeds.")
    device = runtime.get_device(args.device)
    settings = dict(steps=args.steps, batch_size=args.batch_size, hidden=tuple(args.hidden), lr=args.lr,
                    unsupervised_weight=args.unsupervised_weight)
    out = Path(args.out or tempfile.mkdtemp(prefix="ssgan-labels-"))
    out.mkdir(parents=True, exist_ok=True)
    store = checkpoints.Store(folder=out)
    ds = data.load_image_data(args.dataset, device=device, scale="symmetric", seed=0)
    fit, select = evaluator.heldout_split(ds.x_train, ds.y_train, "full")
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{ds.name}: {len(fit[0])} training images (100 of them labelled), {len(select[0])} selection "
          f"images, {len(ds.x_test)} test images; {machine}; settings {settings}; checkpoints in {out}",
          flush=True)
    runs = [run_seed(s, ds, fit, select, settings, device, store) for s in range(args.seeds)]
    summary = summarise(runs)
    print_summary(summary, len(runs))
    if args.record:
        command = (f"python benchmarks/ssgan_labels.py --seeds {args.seeds} --steps {args.steps} "
                   f"--batch-size {args.batch_size} --hidden {' '.join(map(str, args.hidden))} "
                   f"--lr {args.lr:g} --unsupervised-weight {args.unsupervised_weight:g} "
                   f"--dataset {ds.name} --record {args.record}")
        recorded.save_recorded(args.record, {
            "dataset": ds.name, "machine": machine, "config": {**settings, "modes": MODES},
            "split": (f"trained on {len(fit[0])} training images; settings chosen on the {len(select[0])} "
                      f"held-out training images (selection split); accuracy also on {len(ds.x_test)} "
                      "test images"),
            "schedule": "full" if settings == {**ssgan.DEFAULTS["full"], "hidden": ssgan.SSGANConfig.hidden,
                                               "lr": ssgan.SSGANConfig.lr,
                                               "unsupervised_weight": ssgan.SSGANConfig.unsupervised_weight}
                        else "changed", "date": datetime.date.today().isoformat(), "command": command,
            "how_run": "python benchmarks/ssgan_labels.py " + " ".join(sys.argv[1:]),
            "results": {"runs": runs, "summary": summary, "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
