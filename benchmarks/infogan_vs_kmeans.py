"""Benchmark (not a test): InfoGAN's categorical code against k-means on pixels, as unsupervised
classifiers, over several seeds, on the selection split (never the test set).

For each seed s: train notebook 09's InfoGAN recipe (seed s) on the training images minus the
held-out selection split (the last 10,000 training images, as `evaluator.heldout_split`), read the
selection images' codes with Q, and score the best one-to-one matching with their labels; run
k-means on the same selection images, ten k-means++ starts from seed s, and keep its own choice
(the lowest inertia), scored the same way. Prints every run, the mean and standard deviation of
each method, and the difference of the means with its standard error.

    .venv/bin/python benchmarks/infogan_vs_kmeans.py --seeds 4 [--dataset fashion-mnist]
        [--schedule full] [--set lambda_cont=1 ...] [--record infogan_vs_kmeans]

--track EVERY prints, every EVERY training steps, the matched accuracy of the code on the selection
split and the sizes of the code's clusters, to see when (and whether) the code settles on the classes.
--jobs N trains N seeds at once in separate processes (each with the threads OMP_NUM_THREADS
gives it). --out DIR also writes the results to DIR/results.json. --record NAME stores the results as a
labelled recorded run in course_lib/recorded_runs.json, which notebook 09 quotes. --npz FILE reads the images (x: N x 28 x 28 uint8, y: N labels) from a
local file instead of the course's datasets, e.g. for a scratch copy of another dataset; with it,
--heldout sets the size of the selection split.
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import platform
import statistics
import sys

import numpy as np
import torch

from course_lib import clustering, data, evaluator, infogan, recipe, recorded, runtime


def parse_overrides(pairs):
    """['lambda_cont=1', 'steps=200'] -> {'lambda_cont': 1.0, 'steps': 200} (JSON values)."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in infogan.DEFAULTS["full"]:
            raise SystemExit(f"--set expects KEY=VALUE with KEY one of {sorted(infogan.DEFAULTS['full'])}, "
                             f"got {pair!r}.")
        overrides[key] = json.loads(value)
    return overrides


def load_split(args, schedule, device):
    """(name, x_fit in [-1, 1], (x_select, y_select)) for the chosen data."""
    if args.npz:
        arrays = np.load(args.npz)
        x = data.scale_images(torch.from_numpy(arrays["x"]).unsqueeze(1), "symmetric").to(device)
        y = torch.from_numpy(arrays["y"]).long().to(device)
        n = args.heldout
        if not n or not 0 < n < len(x):
            raise SystemExit(f"--npz needs --heldout between 1 and {len(x) - 1}, got {n}.")
        return os.path.basename(args.npz), x[:-n], (x[-n:], y[-n:])
    ds = data.load_image_data(args.dataset, device=device, scale="symmetric", seed=0,
                              train_size=evaluator.DEFAULTS[schedule]["train_size"], test_size=1)
    (x_fit, _), selection = evaluator.heldout_split(ds.x_train, ds.y_train, schedule)
    return ds.name, x_fit, selection


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def code_accuracy(discriminator, x_select, y_select, config, n_classes):
    """(matched accuracy of Q's categorical code on the selection images, their codes)."""
    codes, _ = infogan.predict_codes(discriminator, x_select, config["n_categories"],
                                     config["n_continuous"])
    return clustering.matching_accuracy(codes.cpu(), y_select.cpu(), config["n_categories"],
                                        n_classes), codes.cpu()


def train_tracked(x_fit, name, schedule, device, seed, config, every, selection, n_classes):
    """Train the recipe for `seed` (a fresh model: recipe.train, no checkpoint) and, every `every`
    steps, print the code's matched accuracy on the selection split and its cluster sizes.
    Returns (discriminator, meta)."""
    run_data = recipe.RunData(name, x_fit)
    run_config = infogan.config(run_data, schedule, seed=seed, **config)
    built = recipe.build(infogan.RECIPE, run_config, device)
    modules = built[0]

    def report(i, history):
        accuracy, codes = code_accuracy(modules["discriminator"], *selection, config, n_classes)
        sizes = sorted(np.bincount(codes.numpy(), minlength=config["n_categories"]), reverse=True)
        bound = float(np.mean(history["mi_cat"][-every:]))
        print(f"  seed {seed} step {i + 1}: accuracy {accuracy:.3f}, bound {bound:.3f}, "
              f"{history['seconds'][-1]:.0f} s, cluster sizes {[int(n) for n in sizes]}", flush=True)

    modules, meta = recipe.train(infogan.RECIPE, run_config, run_data, device, snapshots=0,
                                 callback=report if every else None, every=every or None,
                                 progress=False, built=built)
    return modules["discriminator"], meta


def run_seed(args, seed):
    """Train and score InfoGAN and k-means for one seed: {seed, infogan, kmeans, bound, seconds}."""
    schedule, device = runtime.get_schedule(args.schedule), runtime.get_device(args.device)
    config = {**infogan.DEFAULTS[schedule], **parse_overrides(args.set)}
    name, x_fit, (x_select, y_select) = load_split(args, schedule, device)
    n_classes = int(y_select.max()) + 1
    runtime.seed_everything(seed)
    d_info, meta = train_tracked(x_fit, name, schedule, device, seed, config, args.track,
                                 (x_select, y_select), n_classes)
    info_acc, _ = code_accuracy(d_info, x_select, y_select, config, n_classes)
    tail = max(1, len(meta["history"]["mi_cat"]) // 10)
    bound = float(np.mean(meta["history"]["mi_cat"][-tail:]))
    clusters, _, _ = clustering.kmeans(x_select.cpu(), n_classes, restarts=args.kmeans_starts,
                                       seed=seed)
    kmeans_acc = clustering.matching_accuracy(clusters, y_select.cpu(), n_classes, n_classes)
    return {"seed": seed, "infogan": info_acc, "kmeans": kmeans_acc, "bound": bound,
            "seconds": meta["seconds"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="number of seeds (0, 1, ...)")
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--schedule", default="full", help="the recipe's schedule (default full)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="override the InfoGAN recipe, e.g. lambda_cont=1 noise_std=0.1")
    parser.add_argument("--kmeans-starts", type=int, default=10)
    parser.add_argument("--device", default=None)
    parser.add_argument("--npz", default=None, help="local images instead of the course's datasets")
    parser.add_argument("--heldout", type=int, default=None, help="selection size, with --npz")
    parser.add_argument("--track", type=int, default=0, metavar="EVERY",
                        help="print the code's accuracy every EVERY training steps")
    parser.add_argument("--jobs", type=int, default=1,
                        help="train this many seeds at once, in separate processes")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="also write the results as DIR/results.json")
    parser.add_argument("--record", default=None, metavar="NAME",
                        help="store the results in course_lib/recorded_runs.json under NAME")
    args = parser.parse_args()
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2: one run of either method says little.")

    schedule, device = runtime.get_schedule(args.schedule), runtime.get_device(args.device)
    overrides = parse_overrides(args.set)
    name, x_fit, (x_select, y_select) = load_split(args, schedule, device)
    config = {**infogan.DEFAULTS[schedule], **overrides}
    k = config["n_categories"]
    n_classes = int(y_select.max()) + 1
    print(f"{name}: InfoGAN trains on {len(x_fit)} images, both methods are scored on "
          f"{len(x_select)} held-out training images (selection split); schedule {schedule}, "
          f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"InfoGAN recipe: {config}")

    jobs = max(1, min(args.jobs, args.seeds))
    if jobs == 1:
        runs = [run_seed(args, seed) for seed in range(args.seeds)]
    else:  # one process per seed, each on its own thread(s): the same runs, sooner
        with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
            runs = list(pool.map(run_seed, [args] * args.seeds, range(args.seeds)))
    for run in runs:
        print(f"seed {run['seed']}: InfoGAN {run['infogan']:.3f} (bound {run['bound']:.3f} of log {k} = "
              f"{math.log(k):.3f}, {run['seconds']:.0f} s)   k-means {run['kmeans']:.3f}", flush=True)

    info_mean, info_sd = mean_sd([r["infogan"] for r in runs])
    km_mean, km_sd = mean_sd([r["kmeans"] for r in runs])
    n = len(runs)
    diff, diff_se = info_mean - km_mean, math.sqrt(info_sd**2 / n + km_sd**2 / n)
    print(f"InfoGAN  {info_mean:.3f} ± {info_sd:.3f} (mean ± sd over {n} seeds; "
          f"range {min(r['infogan'] for r in runs):.3f}-{max(r['infogan'] for r in runs):.3f})")
    print(f"k-means  {km_mean:.3f} ± {km_sd:.3f} (range {min(r['kmeans'] for r in runs):.3f}-"
          f"{max(r['kmeans'] for r in runs):.3f})")
    print(f"InfoGAN - k-means: {diff:+.3f} ± {diff_se:.3f} (standard error); chance about "
          f"{1 / n_classes:.2f}")
    results = {"runs": runs, "infogan_mean": info_mean, "infogan_sd": info_sd,
               "kmeans_mean": km_mean, "kmeans_sd": km_sd, "difference": diff,
               "difference_se": diff_se}
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"dataset": name, "config": config, "results": results}, f, indent=1)
    if args.record:
        command = "python benchmarks/infogan_vs_kmeans.py " + " ".join(sys.argv[1:])
        recorded.save_recorded(args.record, {
            "dataset": name, "schedule": schedule,
            "machine": f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads",
            "date": datetime.date.today().isoformat(), "command": command,
            "split": f"InfoGAN trained on {len(x_fit)} training images; scored on the "
                     f"{len(x_select)} held-out training images (selection split)",
            "config": config,
            "results": results})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
