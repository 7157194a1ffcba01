"""Benchmark (not a test): notebook 11's 2-D protocol for every GAN-training technique on a toy
mixture (by default the 5x5 grid, which the notebook has no time for), over several seeds.

For each technique (the options of notebook 11's section 5) and each seed: train the "toy" recipe of
`techniques` with notebook 04's collapsing setting (the discriminator learns 10 times slower than the
generator; every other setting is gan.DEFAULTS["full"]["toy"]), draw 2,500 points at fixed noise and
score them with `toy.mode_coverage` (modes covered, high-quality share). Prints every run, the mean
and standard deviation over seeds, and each technique's difference from the plain GAN paired by seed.

    .venv/bin/python benchmarks/techniques_toy.py --kind grid --seeds 3 [--steps 3000]
        [--record techniques_toy_grid]

--record NAME stores the results as a labelled recorded run in course_lib/recorded_runs.json,
which notebook 11 prints.
"""

import argparse
import datetime
import math
import os
import statistics
import sys

import torch

from course_lib import gan, recorded, techniques

TECHNIQUES = {
    "plain GAN": {},
    "label smoothing (alpha = 0.9)": dict(real_target=0.9),
    "feature matching": dict(feature_matching=True),
    "minibatch std": dict(minibatch="std"),
    "minibatch discrimination": dict(minibatch="discrimination", mbd_kernels=8, mbd_dim=4),
}
SCORES = ("modes", "hq")
N_EVAL = 2_500


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def run_all(kind, seeds, settings):
    """{technique: [{"seed", "modes", "hq"}, ...]} over `seeds`."""
    runs = {}
    for name, options in TECHNIQUES.items():
        runs[name] = []
        for seed in seeds:
            result = techniques.run_toy_technique(kind, seed=seed, n_eval=N_EVAL, **settings, **options)
            coverage = result["coverage"]
            runs[name].append({"seed": seed, "modes": coverage["modes_covered"],
                               "hq": coverage["high_quality_fraction"]})
            print(f"{name:<30} seed {seed}: {coverage['modes_covered']} of {coverage['n_modes']} modes, "
                  f"high-quality share {coverage['high_quality_fraction']:.3f}", flush=True)
    return runs


def summarise(runs):
    summary = {}
    for name, per_seed in runs.items():
        entry = {}
        for key in SCORES:
            entry[f"{key}_mean"], entry[f"{key}_sd"] = mean_sd([r[key] for r in per_seed])
            if name != "plain GAN":
                gaps = [r[key] - p[key] for r, p in zip(per_seed, runs["plain GAN"])]
                mean, sd = mean_sd(gaps)
                entry[f"{key}_difference"], entry[f"{key}_difference_se"] = mean, sd / math.sqrt(len(gaps))
        summary[name] = entry
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="grid", choices=("ring", "grid"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=gan.DEFAULTS["full"]["toy"]["steps"])
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2: differences are paired over seeds.")
    toy = dict(gan.DEFAULTS["full"]["toy"])
    settings = dict(toy, lr_d=toy["lr_d"] / 10, steps=args.steps)  # notebook 11's SLOW_D
    machine = f"CPU, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{args.kind}: {settings}; {machine}", flush=True)
    runs = run_all(args.kind, list(range(args.seeds)), settings)
    summary = summarise(runs)
    for name, entry in summary.items():
        gap = "" if name == "plain GAN" else (f"   vs plain: modes {entry['modes_difference']:+.2f} ± "
                                              f"{entry['modes_difference_se']:.2f}, high-quality "
                                              f"{entry['hq_difference']:+.3f} ± {entry['hq_difference_se']:.3f}")
        print(f"{name:<30} modes {entry['modes_mean']:.2f} ± {entry['modes_sd']:.2f}  high-quality "
              f"{entry['hq_mean']:.3f} ± {entry['hq_sd']:.3f}{gap}")
    if args.record:
        recorded.save_recorded(args.record, {
            "dataset": f"2-D {args.kind} of Gaussians (data.toy_mixture)", "machine": machine,
            "config": {**settings, "techniques": TECHNIQUES, "n_eval": N_EVAL},
            "split": f"{N_EVAL} generated points at fixed noise, scored by toy.mode_coverage",
            "schedule": "full" if args.steps == toy["steps"] else f"shortened ({args.steps} steps)",
            "date": datetime.date.today().isoformat(),
            "command": f"python benchmarks/techniques_toy.py --kind {args.kind} --seeds {args.seeds} "
                       f"--steps {args.steps} --record {args.record}",
            "how_run": "python benchmarks/techniques_toy.py " + " ".join(sys.argv[1:]),
            "results": {"runs": runs, "summary": summary, "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
