"""Benchmark (not a test): where one training step of each GAN recipe spends its time.

For each recipe (full-schedule config, random images of the data's shape): after a few warm-up
steps, times drawing the batch, the recipe's step and turning the losses into floats (what the
training loop records every step), then lists the operators that take the most time over a
profiled stretch of steps (torch.profiler, self CPU time).

    .venv/bin/python benchmarks/profile_steps.py [--recipes mlp dcgan wgan-gp infogan] [--steps 50]
"""

import argparse
import time

import torch
from quality_per_minute import RECIPES
from torch.profiler import ProfilerActivity, profile

from course_lib import recipe, train
from course_lib.data import batch_stream


def timed(function, n):
    start = time.perf_counter()
    for _ in range(n):
        out = function()
    return (time.perf_counter() - start) / n * 1e3, out


def profile_recipe(name, steps, rows):
    family, make_config, _ = RECIPES[name]
    x = torch.rand(4096, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    run_data = recipe.RunData("random", x)
    config = make_config(run_data, {})
    modules, _ = recipe.build(family, config, "cpu")
    optimizers = family.optimizers(config, modules)
    batches = batch_stream(*family.tensors(config, run_data),
                           batch_size=config.batch_size * family.draws_per_step(config))
    for module in modules.values():
        module.train()
    step = recipe.averaging_step(family, config, modules, optimizers)
    for _ in range(5):
        step(next(batches))
    batch_ms, batch = timed(lambda: next(batches), steps)
    step_ms, losses = timed(lambda: step(batch), steps)
    record_ms, _ = timed(lambda: train.losses_as_floats(losses), steps)
    print(f"\n{name}: {config.batch_size * family.draws_per_step(config)} images per step; "
          f"batch {batch_ms:.2f} ms, step {step_ms:.1f} ms, losses to floats {record_ms:.3f} ms "
          f"({1e3 / (batch_ms + step_ms + record_ms):.1f} steps/s, {torch.get_num_threads()} threads)")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(min(steps, 20)):
            step(batch)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["mlp", "dcgan", "wgan-gp", "infogan"],
                        choices=sorted(RECIPES))
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rows", type=int, default=8, help="operators listed per recipe")
    args = parser.parse_args()
    for name in args.recipes:
        profile_recipe(name, args.steps, args.rows)


if __name__ == "__main__":
    main()
