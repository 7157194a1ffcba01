"""Benchmark (not a test): the VAE-GAN against notebook 02's VAE over several seeds (notebook 14,
section 4), scored on the selection split (never the test set).

For each seed s: train notebook 02's conv VAE (k = 16, the full schedule's settings, seed s) and
the VAE-GAN (`course_lib.vaegan`, the full schedule's settings, seed s) on the training images
minus the held-out selection split (the last 10,000 training images, `evaluator.heldout_split`);
score N_SAMPLES prior samples of each (the VAE's decoded Bernoulli means) with the evaluator
against the selection images (FID, precision, recall, coverage, and the samples' sharpness), and
reconstruct N_RECONSTRUCT selection images with each (sharpness and squared error per image, in
[0, 1]). Prints every run, mean and standard deviation over seeds, and the VAE-GAN minus the VAE
paired by seed.

    .venv/bin/python benchmarks/vaegan_compare.py --seeds 3 [--out FOLDER] [--record vaegan_compare]
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

from course_lib import checkpoints, data, evaluator, recipe, recorded, runtime, vae, vaegan

KEYS = ("fid", "precision", "recall", "coverage", "sample_sharpness", "reconstruction_sharpness",
        "reconstruction_error")
N_SAMPLES, N_RECONSTRUCT, LATENT_DIM = 5_000, 1_000, 16


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def scores_of(samples, reconstructions, originals, judge, reference):
    """Every KEYS entry for one model: samples and reconstructions in [0, 1]."""
    scores = evaluator.evaluate_samples(judge, samples, reference)
    error = (reconstructions - originals).pow(2).flatten(1).sum(1).mean()
    return {"fid": scores["fid"], "precision": scores["precision"], "recall": scores["recall"],
            "coverage": scores["coverage"], "sample_sharpness": vaegan.sharpness(samples),
            "reconstruction_sharpness": vaegan.sharpness(reconstructions),
            "reconstruction_error": float(error)}


def run_vae(seed, x_fit, x_select, name, device, store):
    unit_fit, unit_select = evaluator.symmetric_to_unit(x_fit), evaluator.symmetric_to_unit(x_select)
    model, meta = vae.load_or_train_vae("conv", LATENT_DIM, recipe.RunData(name, unit_fit), "full", device,
                                        seed=seed, progress=False, store=store)
    rng = torch.Generator().manual_seed(seed)
    samples = vae.decode_mean(model, vae.sample_prior(model, N_SAMPLES, rng))
    binary = vae.binarize(unit_select[:N_RECONSTRUCT], generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        reconstructions = vae.decode_mean(model, model.encode(binary)[0])
    return samples, reconstructions, meta


def run_vaegan(seed, x_fit, x_select, name, device, store):
    model, _, meta = vaegan.load_or_train_vaegan(x_fit, name, "full", device, seed=seed, snapshots=0,
                                                 progress=False, store=store)
    samples = vaegan.sample(model, N_SAMPLES, torch.Generator().manual_seed(seed))
    reconstructions = vaegan.reconstruct(model, x_select[:N_RECONSTRUCT])
    return (evaluator.symmetric_to_unit(samples), evaluator.symmetric_to_unit(reconstructions), meta)


def run(seed, x_fit, x_select, name, device, store, judge, reference):
    """One seed: train (or load) both models and score them. Returns {model: {key: value}}."""
    runtime.seed_everything(seed)
    originals = evaluator.symmetric_to_unit(x_select[:N_RECONSTRUCT])
    out = {}
    for model, fit in (("VAE", run_vae), ("VAE-GAN", run_vaegan)):
        start = time.perf_counter()
        samples, reconstructions, meta = fit(seed, x_fit, x_select, name, device, store)
        out[model] = {**scores_of(samples, reconstructions, originals, judge, reference),
                      "steps": meta["steps"], "seconds": meta["seconds"]}
        print(f"seed {seed} {model}: {meta['steps']} steps in {meta['seconds']:.0f} s "
              f"({time.perf_counter() - start:.0f} s with scoring) "
              + " ".join(f"{k} {out[model][k]:.4f}" for k in KEYS), flush=True)
    return out


def summarise(runs):
    """({model: {key: [mean, sd]}}, {key: [VAE-GAN - VAE per seed]})."""
    summary = {m: {k: mean_sd([r[m][k] for r in runs]) for k in KEYS} for m in ("VAE", "VAE-GAN")}
    differences = {k: [r["VAE-GAN"][k] - r["VAE"][k] for r in runs] for k in KEYS}
    for model, entry in summary.items():
        print(f"{model:<8} " + "  ".join(f"{k} {m:.4f} ± {s:.4f}" for k, (m, s) in entry.items()))
    for key, gaps in differences.items():
        print(f"VAE-GAN - VAE {key:<26} " + " ".join(f"{g:+.4f}" for g in gaps))
    return summary, differences


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints")
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    device = runtime.get_device()
    out = Path(args.out or tempfile.mkdtemp(prefix="vaegan-compare-"))
    store = checkpoints.Store(folder=out)
    ds = data.load_image_data(device=device, scale="symmetric", seed=0, test_size=1,
                              train_size=evaluator.DEFAULTS["full"]["train_size"])
    (x_fit, _), (x_select, _) = evaluator.heldout_split(ds.x_train, schedule="full")
    judge, _ = evaluator.load_evaluator(ds.name, "full", device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(x_select))
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{ds.name}: train on {len(x_fit)} images, score {N_SAMPLES} samples against {len(x_select)} "
          f"held-out training images; {machine}; checkpoints in {out}", flush=True)
    runs = [{"seed": s, **run(s, x_fit, x_select, ds.name, device, store, judge, reference)}
            for s in range(args.seeds)]
    summary, differences = summarise(runs)
    if args.record:
        recorded.save_recorded(args.record, {
            "dataset": ds.name, "schedule": "full", "machine": machine,
            "date": datetime.date.today().isoformat(),
            "command": "python benchmarks/vaegan_compare.py " + " ".join(sys.argv[1:]),
            "config": {"vaegan": vaegan.DEFAULTS["full"], "vae": {**vae.DEFAULTS["full"], "arch": "conv",
                                                                   "latent_dim": LATENT_DIM},
                       "n_samples": N_SAMPLES, "n_reconstruct": N_RECONSTRUCT},
            "split": f"trained on {len(x_fit)} training images; scored on the {len(x_select)} "
                     "held-out training images (selection split)",
            "results": {"runs": runs, "summary": summary, "differences": differences,
                        "keys": list(KEYS), "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
