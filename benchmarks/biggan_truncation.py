"""Benchmark (not a test): the truncation trick's fidelity/diversity trade-off (notebook 12,
section 7) on the BigGAN-style recipe of `course_lib.biggan`, over several seeds, scored on the
selection split (never the test set).

For each setting (the recipe as it is, and the same recipe without orthogonal regularization)
and each seed s: train `biggan` (seed s, the full schedule's settings) on the training images
minus the held-out selection split (the last 10,000 training images, `evaluator.heldout_split`),
draw N_SAMPLES class-balanced samples at every truncation threshold psi of PSIS (None: plain
N(0, I) noise) and score them with the evaluator against the selection images (FID, precision,
recall, and the share of samples the evaluator assigns to the requested class). Prints every run,
mean and standard deviation over seeds, and the setting difference paired by seed.

    .venv/bin/python benchmarks/biggan_truncation.py --seeds 3 [--settings recipe "no ortho"]
        [--out FOLDER] [--record biggan_truncation]
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from course_lib import biggan, checkpoints, data, evaluator, recorded, runtime

SETTINGS = {"recipe": {}, "no ortho": dict(ortho_beta=0.0)}
PSIS = (0.25, 0.5, 1.0, 1.5, 2.0, None)
SCORES = ("fid", "precision", "recall", "share")
N_SAMPLES = 5_000


def psi_name(psi):
    return "none" if psi is None else f"{psi:g}"


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def run(seed, setting, x_fit, y_fit, name, device, store, judge, reference):
    """One seed of one setting: train (or load), then score every psi. Returns {psi: scores}."""
    runtime.seed_everything(seed)
    start = time.perf_counter()
    generator, _, meta = biggan.load_or_train_biggan(x_fit, y_fit, 10, name, "full", device, seed=seed,
                                                     snapshots=0, progress=False, store=store,
                                                     **SETTINGS[setting])
    print(f"seed {seed} {setting}: {meta['steps']} steps in {meta['seconds']:.0f} s "
          f"({time.perf_counter() - start:.0f} s with loading)", flush=True)
    curve = {}
    for psi in PSIS:
        images, labels = biggan.sample_balanced(generator, N_SAMPLES, psi, device,
                                                torch.Generator().manual_seed(seed))
        unit = evaluator.symmetric_to_unit(images)
        scores = evaluator.evaluate_samples(judge, unit, reference)
        _, logits = evaluator.embed(judge, unit)
        scores["share"] = (logits.argmax(1) == labels.cpu()).float().mean()
        curve[psi_name(psi)] = {k: float(scores[k]) for k in SCORES}
        print(f"  psi {psi_name(psi):>5}  " + "  ".join(f"{k} {scores[k]:.3f}" for k in SCORES), flush=True)
    return {"seconds": meta["seconds"], "curve": curve}


def summarise(runs, settings):
    """{setting: {psi: {score: [mean, sd]}}}, and the paired difference (setting - recipe)."""
    summary = {}
    for setting in settings:
        summary[setting] = {p: {k: mean_sd([r[setting]["curve"][p][k] for r in runs]) for k in SCORES}
                            for p in map(psi_name, PSIS)}
        if setting != "recipe" and "recipe" in settings:
            summary[f"{setting} - recipe"] = {
                p: {k: mean_sd([r[setting]["curve"][p][k] - r["recipe"]["curve"][p][k] for r in runs])
                    for k in SCORES} for p in map(psi_name, PSIS)}
    for name, table in summary.items():
        print(f"\n{name}: mean ± sd over {len(runs)} seeds")
        for p, entry in table.items():
            print(f"  psi {p:>5}  " + "  ".join(f"{k} {m:+.3f} ± {s:.3f}" for k, (m, s) in entry.items()))
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints")
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    device = runtime.get_device()
    out = Path(args.out or tempfile.mkdtemp(prefix="biggan-truncation-"))
    store = checkpoints.Store(folder=out)
    ds = data.load_image_data(device=device, scale="symmetric", seed=0,
                              train_size=evaluator.DEFAULTS["full"]["train_size"], test_size=1)
    (x_fit, y_fit), (x_select, _) = evaluator.heldout_split(ds.x_train, ds.y_train, "full")
    judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select))
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{ds.name}: train on {len(x_fit)} images, score {N_SAMPLES} samples per psi against "
          f"{len(x_select)} held-out training images; {machine}; checkpoints in {out}", flush=True)
    runs = [{"seed": s, **{setting: run(s, setting, x_fit, y_fit, ds.name, device, store, judge,
                                        reference) for setting in args.settings}}
            for s in range(args.seeds)]
    summary = summarise(runs, args.settings)
    if args.record:
        recorded.save_recorded(args.record, {
            "dataset": ds.name, "schedule": "full", "machine": machine,
            "date": datetime.date.today().isoformat(),
            "command": "python benchmarks/biggan_truncation.py " + " ".join(sys.argv[1:]),
            "config": {**biggan.DEFAULTS["full"], "settings": {s: SETTINGS[s] for s in args.settings},
                       "psis": [psi_name(p) for p in PSIS], "n_samples": N_SAMPLES},
            "split": f"trained on {len(x_fit)} training images; scored on the {len(x_select)} "
                     "held-out training images (selection split)",
            "results": {"runs": runs, "summary": summary, "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
