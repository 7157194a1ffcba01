"""Benchmark (not a test): notebook 11's GAN-training techniques on images, scored by the course's
evaluator over several seeds, on the selection split (never the test set).

For each setting (plain GAN, feature matching, minibatch std, minibatch discrimination, one-sided
label smoothing with alpha = 0.9) and each seed s: train the DCGAN recipe of `techniques` (seed s,
the full schedule's DCGAN settings, the same number of steps for every setting) on the training
images minus the held-out selection split (the last 10,000 training images, as
`evaluator.heldout_split`), draw 2,000 samples and score them with the evaluator against the
selection images (FID, recall, coverage, precision). Prints every run, each setting's mean and
standard deviation over seeds, and its difference from the plain GAN paired by seed, with the
standard error of that mean difference.

    .venv/bin/python benchmarks/techniques_images.py --seeds 2 [--steps 2500]
        [--dataset fashion-mnist] [--out FOLDER] [--record techniques_images]

--record NAME stores the results as a labelled recorded run in course_lib/recorded_runs.json,
which notebook 11 quotes. To use two processes, run one seed each with --seed S --save FILE and
combine them with --merge FILE ... --record NAME (the same numbers as one --seeds run: every run
is seeded by its own seed).
"""

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from course_lib import checkpoints, data, evaluator, gan, nets, recorded, runtime, techniques

SETTINGS = {
    "plain GAN": {},
    "feature matching": dict(feature_matching=True),
    "minibatch std": dict(minibatch="std"),
    "minibatch discrimination": dict(minibatch="discrimination", mbd_kernels=8, mbd_dim=4),
    "label smoothing (alpha = 0.9)": dict(real_target=0.9),
}
SCORES = ("fid", "recall", "coverage", "precision")  # FID: lower is better; the others: higher
N_SAMPLES = 2_000


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def train_seed(seed, x_fit, name, dcgan, device, store):
    """One seed: every setting trained from scratch; returns {setting: (2,000 samples in [0, 1], seconds)}."""
    out = {}
    for setting, options in SETTINGS.items():
        runtime.seed_everything(seed)
        start = time.perf_counter()
        generator, _, _ = techniques.load_or_train_technique(
            "dcgan", x_fit, name, "full", device, seed=seed, snapshots=0, progress=False,
            store=store, **dcgan, **options)
        seconds = time.perf_counter() - start
        z = torch.randn(N_SAMPLES, dcgan["latent_dim"],
                        generator=torch.Generator().manual_seed(seed)).to(device)
        with torch.no_grad():
            out[setting] = (evaluator.symmetric_to_unit(nets.generate(generator, z)), seconds)
        print(f"seed {seed}  {setting:<30} trained ({seconds:.0f} s)", flush=True)
    return out


def score_seed(seed, trained, judge, reference):
    """The evaluator's scores of every setting of one seed: {"seed": seed, setting: scores}."""
    row = {"seed": seed}
    for setting, (samples, seconds) in trained.items():
        scores = evaluator.evaluate_samples(judge, samples, reference)
        row[setting] = {**{k: float(scores[k]) for k in SCORES}, "seconds": seconds}
        print(f"seed {seed}  {setting:<30} " + "  ".join(f"{k} {scores[k]:.3f}" for k in SCORES),
              flush=True)
    return row


def summarise(runs):
    """Per setting: mean and sd of each score; difference from the plain GAN paired by seed."""
    summary = {}
    for setting in SETTINGS:
        entry = {}
        for key in SCORES:
            values = [r[setting][key] for r in runs]
            entry[f"{key}_mean"], entry[f"{key}_sd"] = mean_sd(values)
            if setting != "plain GAN":
                gaps = [r[setting][key] - r["plain GAN"][key] for r in runs]
                gap_mean, gap_sd = mean_sd(gaps)
                entry[f"{key}_difference"] = gap_mean
                entry[f"{key}_difference_se"] = gap_sd / math.sqrt(len(gaps))
        summary[setting] = entry
    return summary


def print_table(summary, n):
    print(f"\nmean ± sd over {n} seeds (FID lower is better; recall, coverage, precision higher)")
    print(f"{'setting':<30} " + "  ".join(f"{k:>15}" for k in SCORES))
    for setting, entry in summary.items():
        print(f"{setting:<30} " + "  ".join(
            f"{entry[f'{k}_mean']:>7.3f} ± {entry[f'{k}_sd']:<5.3f}" for k in SCORES))
    print(f"\ndifference from the plain GAN, paired by seed (mean ± standard error over {n} seeds)")
    for setting, entry in summary.items():
        if setting != "plain GAN":
            print(f"{setting:<30} " + "  ".join(
                f"{entry[f'{k}_difference']:>+7.3f} ± {entry[f'{k}_difference_se']:<5.3f}"
                for k in SCORES))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="number of seeds (0, 1, ...)")
    parser.add_argument("--seed", type=int, default=None, help="run this one seed only (with --save)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps of every setting (default: the full DCGAN schedule's)")
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints (default: a temp dir)")
    parser.add_argument("--save", default=None, metavar="FILE", help="write this process's runs to FILE")
    parser.add_argument("--merge", nargs="*", default=None, metavar="FILE",
                        help="combine the runs saved by --save instead of training")
    parser.add_argument("--record", default=None, metavar="NAME",
                        help="store the results in course_lib/recorded_runs.json under NAME")
    args = parser.parse_args()

    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        runs = sorted((r for p in parts for r in p["runs"]), key=lambda r: r["seed"])
        meta = {k: parts[0][k] for k in ("dataset", "config", "split", "machine")}
        if any({k: p[k] for k in ("dataset", "config", "split")} != {k: meta[k] for k in
                                                                    ("dataset", "config", "split")}
               for p in parts):
            raise SystemExit("--merge needs runs of the same dataset, split and recipe.")
        seeds = [r["seed"] for r in runs]
        if len(set(seeds)) != len(seeds) or len(seeds) < 2:
            raise SystemExit(f"--merge needs at least 2 distinct seeds, got {seeds}.")
    else:
        seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
        if len(seeds) < 2 and not args.save:
            raise SystemExit("--seeds must be at least 2 (or --seed S --save FILE, merged later).")
        device = runtime.get_device(args.device)
        dcgan = dict(gan.DEFAULTS["full"]["dcgan"])
        if args.steps:
            dcgan["steps"] = args.steps
        out = Path(args.out or tempfile.mkdtemp(prefix="techniques-images-"))
        out.mkdir(parents=True, exist_ok=True)
        store = checkpoints.Store(folder=out)
        ds = data.load_image_data(args.dataset, device=device, scale="symmetric", seed=0,
                                  train_size=evaluator.DEFAULTS["full"]["train_size"], test_size=1)
        (x_fit, _), (x_select, _) = evaluator.heldout_split(ds.x_train, None, "full")
        machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
        print(f"{ds.name}: every setting trains on {len(x_fit)} images and is scored with {N_SAMPLES} "
              f"samples against {len(x_select)} held-out training images (selection split); "
              f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; checkpoints in {out}")
        print(f"DCGAN recipe: {dcgan}", flush=True)
        trained = {s: train_seed(s, x_fit, ds.name, dcgan, device, store) for s in seeds}
        # the evaluator after the GANs: it trains once into --out when no checkpoint is there
        judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
        reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select))
        runs = [score_seed(s, trained[s], judge, reference) for s in seeds]
        meta = {"dataset": ds.name, "machine": machine,
                "config": {**dcgan, "settings": SETTINGS, "n_samples": N_SAMPLES},
                "split": f"DCGANs trained on {len(x_fit)} training images; scored on the "
                         f"{len(x_select)} held-out training images (selection split)"}
        if args.save:
            Path(args.save).write_text(json.dumps({**meta, "runs": runs}, indent=1) + "\n")
            print(f"runs saved to {args.save}")
            if len(runs) < 2:
                return

    summary = summarise(runs)
    print_table(summary, len(runs))
    if args.record:
        n, steps = len(runs), meta["config"]["steps"]
        command = (f"python benchmarks/techniques_images.py --seeds {n} --steps {steps} "
                   f"--dataset {meta['dataset']} --record {args.record}")
        recorded.save_recorded(args.record, {
            **{k: meta[k] for k in ("dataset", "machine", "config", "split")},
            "schedule": "full" if steps == gan.DEFAULTS["full"]["dcgan"]["steps"]
                        else f"shortened ({steps} DCGAN steps)",
            "date": datetime.date.today().isoformat(), "command": command,
            "how_run": ("one process per seed (--seed S --save FILE), combined by "
                        if args.merge else "") + "python benchmarks/techniques_images.py "
                       + " ".join(sys.argv[1:]),
            "results": {"runs": runs, "summary": summary, "seeds": n}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
