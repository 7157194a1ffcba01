"""Benchmark (not a test): notebook 13's measurements of the small StyleGAN over several seeds, on
the selection split (never the test set).

For each seed s: train `stylegan` (seed s, the full schedule's settings) on the training images
minus the held-out selection split (the last 10,000 training images, `evaluator.heldout_split`),
then measure
- the perceptual path length in Z (slerp) and in W (lerp) with the evaluator's features, N_PPL
  paths each (the mean without the top and bottom percent, as the paper's code reports it);
- FID, precision and recall of N_SAMPLES samples against the selection images, without truncation
  and truncated in W at psi = 0.5;
- for pairs of latents whose images the evaluator puts in different classes, the share of images
  mixed at the crossover after the two 7x7 layers that keep the class of the coarse source.
Prints every run, mean and standard deviation over seeds, and the W - Z difference paired by seed.

    .venv/bin/python benchmarks/stylegan_measures.py --seeds 3 [--out FOLDER] [--record stylegan_measures]
"""

import argparse
import copy
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from course_lib import checkpoints, data, evaluator, recorded, runtime, stylegan

N_PPL = 1_000
N_SAMPLES = 2_000
N_PAIRS = 1_000
KEYS = ("ppl_z", "ppl_w", "ppl_w_minus_z", "fid", "precision", "recall", "fid_psi_0.5",
        "precision_psi_0.5", "recall_psi_0.5", "coarse_class_share")


def class_share(generator, judge, seed, device, crossover=2):
    """Among pairs of different predicted classes: how often the mixed image keeps the class of
    the source of its first `crossover` styles."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w1, w2 = (generator.z_to_w(torch.randn(N_PAIRS, generator.latent_dim, generator=rng).to(device))
                  for _ in range(2))
        noise = generator.make_noise(N_PAIRS, device, generator=rng)
        classes = [evaluator.batched_logits(judge, evaluator.symmetric_to_unit(
            generator.synthesize(w, noise))).argmax(1)
            for w in (w1, w2, stylegan.mix_styles(w1, w2, crossover, generator.n_layers))]
    differ = classes[0] != classes[1]
    return float((classes[2] == classes[0])[differ].float().mean())


def run(seed, x_fit, name, device, store, judge, reference):
    """One seed: train (or load), then every measurement. Returns {key: value}."""
    runtime.seed_everything(seed)
    start = time.perf_counter()
    generator, _, meta = stylegan.load_or_train_stylegan(x_fit, name, "full", device, seed=seed, snapshots=0,
                                                         progress=False, store=store)
    print(f"seed {seed}: {meta['steps']} steps in {meta['seconds']:.0f} s "
          f"({time.perf_counter() - start:.0f} s with loading)", flush=True)
    judge64 = copy.deepcopy(judge).double()
    result = {"seconds": meta["seconds"]}
    for space in ("z", "w"):
        values = stylegan.perceptual_path_length(
            generator, lambda x: judge64.features(evaluator.symmetric_to_unit(x)), N_PPL, space,
            rng=torch.Generator().manual_seed(seed))
        result[f"ppl_{space}"] = stylegan.trimmed_mean(values)
    result["ppl_w_minus_z"] = result["ppl_w"] - result["ppl_z"]
    for suffix, psi in (("", None), ("_psi_0.5", 0.5)):
        images = stylegan.sample(generator, N_SAMPLES, w_psi=psi, rng=torch.Generator().manual_seed(seed))
        scores = evaluator.evaluate_samples(judge, evaluator.symmetric_to_unit(images), reference)
        result.update({f"{k}{suffix}": float(scores[k]) for k in ("fid", "precision", "recall")})
    result["coarse_class_share"] = class_share(generator, judge, seed, device)
    print("  " + "  ".join(f"{k} {result[k]:.3f}" for k in KEYS), flush=True)
    return result


def summarise(runs):
    """{key: [mean, sd]} over seeds, printed; the paired W - Z difference per seed too."""
    summary = {}
    for key in KEYS:
        values = [r[key] for r in runs]
        summary[key] = [statistics.mean(values), statistics.stdev(values) if len(values) > 1 else float("nan")]
        print(f"{key:<20} {summary[key][0]:>10.3f} ± {summary[key][1]:.3f}")
    print("PPL W - Z per seed: " + ", ".join(f"{r['ppl_w_minus_z']:+.1f}" for r in runs))
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints")
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    device = runtime.get_device()
    out = Path(args.out or tempfile.mkdtemp(prefix="stylegan-measures-"))
    store = checkpoints.Store(folder=out)
    ds = data.load_image_data(device=device, scale="symmetric", seed=0,
                              train_size=evaluator.DEFAULTS["full"]["train_size"], test_size=1)
    (x_fit, _), (x_select, _) = evaluator.heldout_split(ds.x_train, ds.y_train, "full")
    judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select[:N_SAMPLES]))
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{ds.name}: train on {len(x_fit)} images, score {N_SAMPLES} samples against {N_SAMPLES} "
          f"held-out training images; {machine}; checkpoints in {out}", flush=True)
    runs = [{"seed": s, **run(s, x_fit, ds.name, device, store, judge, reference)} for s in range(args.seeds)]
    summary = summarise(runs)
    if args.record:
        recorded.save_recorded(args.record, {
            "dataset": ds.name, "schedule": "full", "machine": machine,
            "date": datetime.date.today().isoformat(),
            "command": "python benchmarks/stylegan_measures.py " + " ".join(sys.argv[1:]),
            "config": {**stylegan.DEFAULTS["full"], "n_ppl": N_PPL, "n_samples": N_SAMPLES, "n_pairs": N_PAIRS},
            "split": f"trained on {len(x_fit)} training images; scored on {N_SAMPLES} of the "
                     f"{len(x_select)} held-out training images (selection split)",
            "results": {"runs": runs, "summary": summary, "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
