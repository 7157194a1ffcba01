"""Benchmark (not a test): sample quality per minute of training, for the course's GAN recipes.

For each recipe and seed: train the recipe's full-schedule config (with any --set overrides) on the
training images minus the selection split (the last 10,000 training images, as
`evaluator.heldout_split`), with no step limit, until the largest budget is spent; when the
training clock passes each budget, keep a copy of the generator (and of the moving average of its
weights, when the config keeps one). Then score every copy with the course's evaluator against the
selection images (FID, precision, recall, coverage; 10,000 samples). Prints, per budget: steps,
steps per second and the scores, with the machine, the thread count and the clock.

    .venv/bin/python benchmarks/quality_per_minute.py --recipes dcgan wgan-gp [--budgets 30 60 150]
        [--seeds 1] [--set dcgan:ema_decay=0.999 ...] [--clock wall|cpu] [--dataset fashion-mnist]
        [--out FOLDER] [--json FILE]
    .venv/bin/python benchmarks/quality_per_minute.py --merge FILE ... [--record NAME]

--clock cpu measures budgets in CPU seconds of this process instead of wall seconds: on a machine
that other jobs share, one thread's CPU seconds are close to the wall seconds it would take alone.
--clock steps counts steps instead. --averages 0.99 0.999 also scores moving averages of G's
weights with those decays, kept alongside the run (as `ema_decay` would), to compare decays at once.
"""

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from course_lib import (
    checkpoints,
    data,
    evaluator,
    gan,
    infogan,
    nets,
    recipe,
    recorded,
    runtime,
    wgan,
)

SCORES = ("fid", "precision", "recall", "coverage")  # FID lower is better; the others higher


def plain_sampler(config):
    def sample(generator, n, rng):
        z = torch.randn(n, config.latent_dim, generator=rng).to(recipe.device_of(generator))
        return nets.generate(generator, z)
    return sample


def infogan_sampler(config):
    return lambda generator, n, rng: infogan.sample_images(
        generator, n, config.n_categories, config.n_continuous, rng=rng)


# name -> (recipe, make config from (data, settings), sampler of a config)
RECIPES = {
    "mlp": (gan.RECIPES["mlp"], lambda d, s: gan.config("mlp", d, "full", **s), plain_sampler),
    "dcgan": (gan.RECIPES["dcgan"], lambda d, s: gan.config("dcgan", d, "full", **s), plain_sampler),
    "wgan-gp": (wgan.RECIPES_BY_VARIANT["gp"], lambda d, s: wgan.config("gp", d, "full", **s),
                plain_sampler),
    "infogan": (infogan.RECIPE, lambda d, s: infogan.config(d, "full", **s), infogan_sampler),
}


class BudgetSpent(Exception):
    """Raised by the training callback once the largest budget has passed."""


def parse_settings(pairs):
    """['dcgan:ema_decay=0.999', 'lr_g=1e-3'] -> {recipe or '*': {setting: JSON value}}."""
    settings = {}
    for pair in pairs:
        target, _, assignment = pair.rpartition(":")
        key, sep, value = assignment.partition("=")
        if not sep:
            raise SystemExit(f"--set needs [recipe:]setting=value, got {pair!r}.")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        settings.setdefault(target or "*", {})[key] = tuple(parsed) if isinstance(parsed, list) else parsed
    return settings


def train_to_budgets(name, config, run_data, device, budgets, clock, decays=()):
    """Train until the largest budget; returns [(budget, steps, seconds, {label: generator copy})].
    `decays`: moving averages of G's weights kept alongside (recipe.update_average after every
    step), to compare decays in one run; the config's own average, if any, is kept too."""
    family = RECIPES[name][0]
    built = recipe.build(family, config, device)
    modules, kept, start_cpu = built[0], [], time.process_time()
    pending = sorted(budgets)
    averages = {f"G average {d:g}": (d, copy.deepcopy(modules["generator"])) for d in decays}
    if recipe.average_name("generator") in modules:
        averages["G average"] = (None, modules[recipe.average_name("generator")])

    def callback(i, history):
        for decay, average in averages.values():
            if decay is not None:
                recipe.update_average(average, modules["generator"], recipe.ema_decay_at(decay, i))
        spent = {"wall": history["seconds"][-1], "cpu": time.process_time() - start_cpu,
                 "steps": i + 1}[clock]
        while pending and spent >= pending[0]:
            copies = {label: copy.deepcopy(m).eval()
                      for label, m in [("G", modules["generator"])] +
                      [(label, average) for label, (_, average) in averages.items()]}
            kept.append((pending.pop(0), i + 1, history["seconds"][-1], copies))
        if not pending:
            raise BudgetSpent

    try:
        recipe.train(family, config, run_data, device, snapshots=0, callback=callback, every=1,
                     progress=False, built=built)
    except BudgetSpent:
        pass
    return kept


def score(name, config, kept, judge, reference, n_samples, seed, settings):
    rows = []
    for budget, steps, spent, copies in kept:
        for label, generator in copies.items():
            rng = torch.Generator().manual_seed(seed)
            samples = RECIPES[name][2](config)(generator, n_samples, rng)
            scores = evaluator.evaluate_samples(judge, evaluator.symmetric_to_unit(samples), reference)
            rows.append({"settings": settings, "recipe": name, "seed": seed, "budget": budget, "sampled_from": label,
                         "steps": steps, "seconds": spent, "steps_per_s": steps / spent,
                         **{k: float(scores[k]) for k in SCORES}})
            print(f"{name:<8} seed {seed}  {budget:>5.0f}  {label:<16} {steps:>6} steps "
                  f"({steps / spent:5.1f}/s)  " + "  ".join(f"{k} {rows[-1][k]:.3f}" for k in SCORES),
                  flush=True)
    return rows


def mean_sd(rows, key):
    values = [r[key] for r in rows]
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def print_summary(rows):
    print(f"\n{'recipe':<8} {'budget':>6} {'sampled from':<16} {'steps':>7} " +
          "  ".join(f"{k:>15}" for k in SCORES) + "   (mean ± sd over seeds)")
    summary = summarise(rows)
    for entry in summary:
        cells = "  ".join(f"{entry[k + '_mean']:>7.3f} ± {entry[k + '_sd']:<5.3f}" for k in SCORES)
        print(f"{entry['recipe']:<8} {entry['budget']:>6.0f} {entry['sampled_from']:<16} "
              f"{entry['steps']:>7.0f} {cells}   {entry['settings']} ({entry['seeds']} seeds)")
    return summary


def summarise(rows):
    """Mean and sd over seeds of every score, per (settings, recipe, budget, sampled from)."""
    groups = {}
    for row in rows:
        key = (row["settings"], row["recipe"], row["budget"], row["sampled_from"])
        groups.setdefault(key, []).append(row)
    summary = []
    for (settings, name, budget, label), group in groups.items():
        entry = {"settings": settings, "recipe": name, "budget": budget, "sampled_from": label,
                 "seeds": len(group), "steps": mean_sd(group, "steps")[0]}
        for key in SCORES:
            entry[key + "_mean"], entry[key + "_sd"] = mean_sd(group, key)
        summary.append(entry)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["dcgan"], choices=sorted(RECIPES))
    parser.add_argument("--budgets", nargs="+", type=float, default=[30, 60, 120, 300])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0, 1, ...")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="[RECIPE:]KEY=VALUE")
    parser.add_argument("--clock", choices=("wall", "cpu", "steps"), default="wall",
                        help="what the budgets count (steps: equal steps, for settings that do "
                             "not change a step's cost)")
    parser.add_argument("--averages", nargs="*", type=float, default=[], metavar="DECAY",
                        help="also score moving averages of G's weights with these decays")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--dataset", default=None, help="mnist or fashion-mnist ($COURSE_DATASET)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="scratch folder for the evaluator's checkpoint")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write every row to FILE")
    parser.add_argument("--merge", nargs="*", default=None, metavar="FILE",
                        help="combine --json files of earlier runs instead of training")
    parser.add_argument("--record", default=None, metavar="NAME",
                        help="with --merge: store the summary in course_lib/recorded_runs.json")
    args = parser.parse_args()
    if args.merge:
        return merge(args.merge, args.record)

    settings = parse_settings(args.set)
    device = runtime.get_device(args.device)
    store = checkpoints.Store(folder=Path(args.out or tempfile.mkdtemp(prefix="quality-per-minute-")))
    ds = data.load_image_data(args.dataset, device=device, scale="symmetric", seed=0,
                              train_size=evaluator.DEFAULTS["full"]["train_size"], test_size=1)
    (x_fit, _), (x_select, _) = evaluator.heldout_split(ds.x_train, None, "full")
    run_data = recipe.RunData(ds.name, x_fit)
    print(f"{ds.name}: training on {len(x_fit)} images, scoring {args.n_samples} samples against "
          f"{len(x_select)} held-out training images; device {device}, torch {torch.__version__}, "
          f"{machine(device)}; budgets in {args.clock}", flush=True)
    judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select))

    rows = []
    for name in args.recipes:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            overrides = {**settings.get("*", {}), **settings.get(name, {}), "seed": seed,
                         "steps": 10**7}
            config = RECIPES[name][1](run_data, overrides)
            print(f"{name} seed {seed}: {recipe.config_dict(config)}", flush=True)
            kept = train_to_budgets(name, config, run_data, device, args.budgets, args.clock,
                                    args.averages)
            rows += score(name, config, kept, judge, reference, args.n_samples, seed,
                          " ".join(args.set) or "defaults")
    print_summary(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"argv": vars(args), "machine": machine(device),
                                               "dataset": ds.name, "rows": rows}, indent=1) + "\n")


def machine(device):
    return (f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, "
            f"{platform.processor() or platform.machine()}")


def commands(argvs):
    """The command lines that redo the merged runs: one per setting, its seeds gathered."""
    seeds = {}
    for a in argvs:
        options = [f"--recipes {' '.join(a['recipes'])}",
                   f"--budgets {' '.join(f'{b:g}' for b in a['budgets'])}", f"--clock {a['clock']}"]
        options += [f"--averages {' '.join(f'{d:g}' for d in a['averages'])}"] if a["averages"] else []
        options += [f"--set {' '.join(a['set'])}"] if a["set"] else []
        first = a.get("first_seed", 0)
        seeds.setdefault(" ".join(options), set()).update(range(first, first + a["seeds"]))
    lines = []
    for options, runs in seeds.items():
        first, n = min(runs), len(runs)
        if runs != set(range(first, first + n)):
            raise ValueError(f"the merged runs of `{options}` have gaps in their seeds: {sorted(runs)}")
        lines.append(f"python benchmarks/quality_per_minute.py {options} --seeds {n}"
                     + (f" --first-seed {first}" if first else ""))
    return lines


def merge(files, name):
    """Combine the --json files of several runs, print their summary and record it as NAME."""
    parts = [json.loads(Path(f).read_text()) for f in files]
    rows = [{**row, "settings": row.get("settings", " ".join(part["argv"]["set"]) or "defaults")}
            for part in parts for row in part["rows"]]
    summary = print_summary(rows)
    if name:
        argvs = [part["argv"] for part in parts]
        recorded.save_recorded(name, {
            "dataset": parts[0].get("dataset", argvs[0]["dataset"]),
            "machine": parts[0].get("machine", "CPU, 1 thread"),
            "schedule": "full (the recipes' full-schedule settings, trained to each budget)",
            "split": "trained on the training images minus the last 10,000; scored with "
                     f"{argvs[0]['n_samples']} samples against those 10,000 (selection split)",
            "date": datetime.date.today().isoformat(),
            "command": "; ".join(commands(argvs)),
            "results": {"summary": summary, "rows": rows}})
        print(f"recorded as {name!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
