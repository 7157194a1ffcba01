"""Benchmark (not a test): notebook 12's modern GAN options on images, scored by the course's
evaluator over several seeds, on the selection split (never the test set).

For each variant of `modern_gan.VARIANTS` (the plain DCGAN; SNGAN: spectral norm on D and the hinge
loss; DCGAN + R1; SAGAN-style: attention at 14x14 in G and D, spectral norm on both, hinge loss)
and each seed s: train the variant (seed s, the batch-64 DCGAN settings gan.DCGAN_BATCH_64, the same number of
steps for every variant) on the training images minus the held-out selection split (the last
10,000 training images, as `evaluator.heldout_split`), draw 2,000 samples from the average of G's
weights and score them with the evaluator against the selection images (FID, precision, recall,
coverage). Prints every run, each variant's mean and standard deviation over seeds, and its
difference from the plain DCGAN paired by seed, with the standard error of that mean difference.

    .venv/bin/python benchmarks/modern_gans.py --seeds 2 [--steps 1000]
        [--dataset fashion-mnist] [--out FOLDER] [--record modern_gans]

--record NAME stores the results as a labelled recorded run in course_lib/recorded_runs.json,
which notebook 12 quotes. To run one seed at a time, use --seed S --save FILE and combine the files
with --merge FILE ... --record NAME (the same numbers as one --seeds run: every run is seeded by
its own seed).
"""

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from course_lib import checkpoints, data, evaluator, gan, modern_gan, nets, recorded, runtime

SCORES = ("fid", "precision", "recall", "coverage")  # FID: lower is better; the others: higher
N_SAMPLES = 2_000
BASELINE = "DCGAN"


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def run_seed(seed, x_fit, name, steps, device, store, judge, reference):
    """Every variant trained from scratch with `seed` and scored: {"seed": seed, variant: scores}."""
    row = {"seed": seed}
    for variant, options in modern_gan.VARIANTS.items():
        runtime.seed_everything(seed)
        start = time.perf_counter()
        generator, _, meta = modern_gan.load_or_train_modern(
            x_fit, name, "full", device, seed=seed, snapshots=0, progress=False, store=store,
            steps=steps, **options)
        seconds = time.perf_counter() - start
        z = torch.randn(N_SAMPLES, meta["config"]["latent_dim"],
                        generator=torch.Generator().manual_seed(seed)).to(device)
        with torch.no_grad():
            samples = evaluator.symmetric_to_unit(nets.generate(generator, z))
        scores = evaluator.evaluate_samples(judge, samples, reference)
        row[variant] = {**{k: float(scores[k]) for k in SCORES}, "seconds": seconds,
                        "steps_per_s": meta["steps"] / meta["seconds"]}
        print(f"seed {seed}  {variant:<12} ({seconds:.0f} s) "
              + "  ".join(f"{k} {scores[k]:.3f}" for k in SCORES), flush=True)
    return row


def summarise(runs):
    """Per variant: mean and sd of each score; difference from the plain DCGAN paired by seed."""
    summary = {}
    for variant in modern_gan.VARIANTS:
        entry = {}
        for key in (*SCORES, "steps_per_s"):
            entry[f"{key}_mean"], entry[f"{key}_sd"] = mean_sd([r[variant][key] for r in runs])
            if variant != BASELINE and key in SCORES:
                gaps = [r[variant][key] - r[BASELINE][key] for r in runs]
                gap_mean, gap_sd = mean_sd(gaps)
                entry[f"{key}_difference"] = gap_mean
                entry[f"{key}_difference_se"] = gap_sd / math.sqrt(len(gaps))
                entry[f"{key}_difference_per_seed"] = gaps
        summary[variant] = entry
    return summary


def print_table(summary, n):
    print(f"\nmean ± sd over {n} seeds (FID lower is better; precision, recall, coverage higher)")
    print(f"{'variant':<12} " + "  ".join(f"{k:>15}" for k in SCORES))
    for variant, entry in summary.items():
        print(f"{variant:<12} " + "  ".join(f"{entry[f'{k}_mean']:>7.3f} ± {entry[f'{k}_sd']:<5.3f}"
                                            for k in SCORES))
    print(f"\ndifference from the {BASELINE}, paired by seed (mean ± standard error over {n} seeds)")
    for variant, entry in summary.items():
        if variant != BASELINE:
            print(f"{variant:<12} " + "  ".join(
                f"{entry[f'{k}_difference']:>+7.3f} ± {entry[f'{k}_difference_se']:<5.3f}" for k in SCORES))


def train_and_score(args, seeds):
    """Train and score every seed; returns (runs, meta)."""
    device = runtime.get_device(args.device)
    steps = args.steps or gan.DCGAN_BATCH_64["full"]["steps"]
    out = Path(args.out or tempfile.mkdtemp(prefix="modern-gans-"))
    out.mkdir(parents=True, exist_ok=True)
    store = checkpoints.Store(folder=out)
    ds = data.load_image_data(args.dataset, device=device, scale="symmetric", seed=0,
                              train_size=evaluator.DEFAULTS["full"]["train_size"], test_size=1)
    (x_fit, _), (x_select, _) = evaluator.heldout_split(ds.x_train, None, "full")
    judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select))
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{ds.name}: {len(x_fit)} training images, scored with {N_SAMPLES} samples against "
          f"{len(x_select)} held-out training images; {machine}; {steps} steps; checkpoints in {out}",
          flush=True)
    runs = [run_seed(s, x_fit, ds.name, steps, device, store, judge, reference) for s in seeds]
    meta = {"dataset": ds.name, "machine": machine,
            "config": {**gan.DCGAN_BATCH_64["full"], "steps": steps,
                       "variants": modern_gan.VARIANTS, "n_samples": N_SAMPLES},
            "split": f"trained on {len(x_fit)} training images; scored on the {len(x_select)} "
                     "held-out training images (selection split)"}
    return runs, meta


def merged(files):
    parts = [json.loads(Path(f).read_text()) for f in files]
    runs = sorted((r for p in parts for r in p["runs"]), key=lambda r: r["seed"])
    keys = ("dataset", "config", "split")
    if any({k: p[k] for k in keys} != {k: parts[0][k] for k in keys} for p in parts):
        raise SystemExit("--merge needs runs of the same dataset, split and settings.")
    seeds = [r["seed"] for r in runs]
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise SystemExit(f"--merge needs at least 2 distinct seeds, got {seeds}.")
    return runs, {k: parts[0][k] for k in (*keys, "machine")}


def record(name, runs, meta, summary):
    steps = meta["config"]["steps"]
    recorded.save_recorded(name, {
        **{k: meta[k] for k in ("dataset", "machine", "config", "split")},
        "schedule": f"{steps} steps per model",
        "date": datetime.date.today().isoformat(),
        "command": f"python benchmarks/modern_gans.py --seeds {len(runs)} --steps {steps} "
                   f"--dataset {meta['dataset']} --record {name}",
        "how_run": "python benchmarks/modern_gans.py " + " ".join(sys.argv[1:]),
        "results": {"runs": runs, "summary": summary, "seeds": len(runs)}})
    print(f"recorded as {name!r} in {recorded.RECORDED_FILE}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="number of seeds (0, 1, ...)")
    parser.add_argument("--seed", type=int, default=None, help="run this one seed only (with --save)")
    parser.add_argument("--steps", type=int, default=None, help="steps of every variant")
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints")
    parser.add_argument("--save", default=None, metavar="FILE", help="write this process's runs to FILE")
    parser.add_argument("--merge", nargs="*", default=None, metavar="FILE")
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    if args.merge:
        runs, meta = merged(args.merge)
    else:
        seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
        if len(seeds) < 2 and not args.save:
            raise SystemExit("--seeds must be at least 2 (or --seed S --save FILE, merged later).")
        runs, meta = train_and_score(args, seeds)
        if args.save:
            Path(args.save).write_text(json.dumps({**meta, "runs": runs}, indent=1) + "\n")
            print(f"runs saved to {args.save}")
            if len(runs) < 2:
                return
    summary = summarise(runs)
    print_table(summary, len(runs))
    if args.record:
        record(args.record, runs, meta, summary)


if __name__ == "__main__":
    main()
