"""Benchmark (not a test): the plain text-conditional GAN, GAN-CLS and GAN-CLS + INT (notebook 14,
part 2; Reed et al. 2016) over several seeds, scored on the selection split (never the test set).

For each seed s: train the text encoder (seed s) on the training images minus the held-out
selection split (the last 10,000 training images, `evaluator.heldout_split`), measure its
text -> image retrieval on selection images, then train each variant (seed s, the schedule's
settings) on the frozen caption embeddings. Each variant draws one sample per caption of
N_SAMPLES selection images (one phrasing each, the same captions and noise for every variant) and
is scored: the share the evaluator puts in the described class, the share whose measured ink and
width levels are the described ones, and FID against the selection images. Prints every run, mean
and standard deviation over seeds, and the differences between variants paired by seed.

    .venv/bin/python benchmarks/text_to_image.py --seeds 3 [--schedule full] [--out FOLDER]
        [--record text_to_image]
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

from course_lib import checkpoints, data, evaluator, recorded, runtime
from course_lib import text2image as t2i

SCORES = ("class_share", "ink_agrees", "width_agrees", "fid")
PAIRS = (("cls", "plain"), ("cls+int", "plain"), ("cls+int", "cls"))
N_SAMPLES = {"smoke": 500, "full": 5_000}


def mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def score_variant(generator, captions_t, select, judge, reference, seed):
    """The variant's samples for the selection captions, scored (SCORES)."""
    z = torch.randn(len(captions_t), generator.noise_dim,
                    generator=torch.Generator().manual_seed(seed)).to(captions_t.device)
    samples = t2i.generate_from_text(generator, z, captions_t)
    scores = t2i.caption_scores(judge, samples, select.y_train, select.levels, select.thresholds)
    scores["fid"] = evaluator.evaluate_samples(judge, evaluator.symmetric_to_unit(samples),
                                               reference)["fid"]
    return {k: float(v) for k, v in scores.items()}


def run(seed, fit, select, judge, reference, schedule, device, store):
    """One seed: the encoder, its retrieval, and every variant's scores."""
    runtime.seed_everything(seed)
    text, image, meta = t2i.load_or_train_text_encoder(fit, schedule, device, seed=seed, store=store,
                                                       progress=False)
    found = t2i.retrieval(text, image, select, torch.Generator().manual_seed(seed))
    print(f"seed {seed}: encoder {meta['seconds']:.0f} s, retrieval {found}", flush=True)
    embedded = t2i.EmbeddedData(fit.name, fit.x_train, t2i.embed_phrasings(text, fit.phrasings))
    captions_t = t2i.pick_phrasing(t2i.embed_phrasings(text, select.phrasings),
                                   torch.Generator().manual_seed(seed))
    out = {"seed": seed, "retrieval": found, "encoder_seconds": meta["seconds"]}
    for variant in t2i.VARIANTS:
        runtime.seed_everything(seed)
        generator, _, meta = t2i.load_or_train_text_gan(variant, embedded, schedule, device, seed=seed,
                                                        store=store, progress=False)
        scores = score_variant(generator, captions_t, select, judge, reference, seed)
        out[variant] = {**scores, "seconds": meta["seconds"]}
        print(f"  {variant:>8} ({meta['seconds']:.0f} s): "
              + "  ".join(f"{k} {scores[k]:.3f}" for k in SCORES), flush=True)
    return out


def summarise(runs):
    """{variant: {score: [mean, sd]}} and {"a - b": {score: [mean, sd]}} of paired differences."""
    summary = {v: {k: mean_sd([r[v][k] for r in runs]) for k in SCORES} for v in t2i.VARIANTS}
    for a, b in PAIRS:
        summary[f"{a} - {b}"] = {k: mean_sd([r[a][k] - r[b][k] for r in runs]) for k in SCORES}
    for name, table in summary.items():
        print(f"{name:>16}: " + "  ".join(f"{k} {m:+.3f} ± {s:.3f}" for k, (m, s) in table.items()))
    return summary


def load_split(schedule, device):
    """(fit, selection) `CaptionedData`: the selection split described with the fit set's
    thresholds, cut to N_SAMPLES images."""
    sizes = evaluator.DEFAULTS[schedule]
    ds = data.load_image_data("fashion-mnist" if schedule == "smoke" else None, device=device,
                              scale="symmetric", seed=0, train_size=sizes["train_size"], test_size=1)
    (x_fit, y_fit), (x_select, y_select) = evaluator.heldout_split(ds.x_train, ds.y_train, schedule)
    fit = t2i.captioned_data(ds.name, x_fit, y_fit)
    n = N_SAMPLES[schedule]
    return fit, t2i.captioned_data(ds.name, x_select[:n], y_select[:n], fit.thresholds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--schedule", default="full", choices=["smoke", "full"])
    parser.add_argument("--out", default=None, help="scratch folder for checkpoints")
    parser.add_argument("--record", default=None, metavar="NAME")
    args = parser.parse_args()
    device = runtime.get_device()
    out = Path(args.out or tempfile.mkdtemp(prefix="text-to-image-"))
    store = checkpoints.Store(folder=out)
    start = time.perf_counter()
    fit, select = load_split(args.schedule, device)
    judge, _ = evaluator.load_evaluator(fit.name, args.schedule, device, progress=False, store=store)
    reference = evaluator.make_reference(judge, evaluator.symmetric_to_unit(select.x_train))
    machine = f"{device.type.upper()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{fit.name}: train on {len(fit.x_train)} images, score against {len(select.x_train)} "
          f"selection images; {machine}; checkpoints in {out}", flush=True)
    runs = [run(s, fit, select, judge, reference, args.schedule, device, store)
            for s in range(args.seeds)]
    summary = summarise(runs)
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.record:
        recorded.save_recorded(args.record, {
            "dataset": fit.name, "schedule": args.schedule, "machine": machine,
            "date": datetime.date.today().isoformat(),
            "command": "python benchmarks/text_to_image.py " + " ".join(sys.argv[1:]),
            "config": {"encoder": t2i.ENCODER_DEFAULTS[args.schedule],
                       "gan": t2i.GAN_DEFAULTS[args.schedule], "n_samples": len(select.x_train)},
            "split": f"trained on {len(fit.x_train)} training images; scored on "
                     f"{len(select.x_train)} held-out training images (selection split)",
            "results": {"runs": runs, "summary": summary, "seeds": args.seeds}})
        print(f"recorded as {args.record!r} in {recorded.RECORDED_FILE}")


if __name__ == "__main__":
    main()
