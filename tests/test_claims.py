"""Notebook 10's discussion lines, computed from a table of known scores."""

import math

import numpy as np

from course_lib import claims


def row(fid, precision, recall, coverage=0.5, is_=2.0, diversity=0.2, parzen=0.0, **extra):
    return dict(fid=fid, precision=precision, recall=recall, coverage=coverage,
                diversity=diversity, parzen_ll=parzen, **{"is": is_}, **extra)


RESULTS = {
    "real data (held-out train images vs test set)": row(2.0, 0.9, 0.9, 0.95, 5.0, 0.05, 200, n=1000),
    "PCA sampler (k = 16)": row(30.0, 0.4, 0.2, parzen=150),
    "AE decoding a Gaussian fitted to its codes": row(25.0, 0.6, 0.1, parzen=180),
    "VAE (conv, k = 16)": row(20.0, 0.5, 0.3, 0.4, nll=90.0, parzen=100),
    "DCGAN": row(10.0, 0.8, 0.2, 0.3, parzen=-50),
    "WGAN-GP": row(float("nan"), 0.7, 0.25, parzen=-60),
}
HISTOGRAM = np.full(10, 0.1)


def text(results=RESULTS):
    return "\n".join(claims.discussion(results, 5.2, HISTOGRAM, 1000))


def test_tv_sampling_floor_matches_simulation():
    rng = np.random.default_rng(0)
    q, n, m = np.array([0.5, 0.3, 0.2]), 400, 1000
    simulated = np.mean([0.5 * np.abs(rng.multinomial(n, q) / n - rng.multinomial(m, q) / m).sum()
                         for _ in range(20_000)])
    assert math.isclose(claims.tv_sampling_floor(q, n, m), simulated, rel_tol=0.03)


def test_best_rows_and_missing_scores():
    out = text()
    assert "fid        DCGAN (10.000)" in out  # WGAN-GP's NaN FID never wins
    assert "precision  DCGAN (0.800)" in out and "recall     VAE (conv, k = 16) (0.300)" in out
    assert "No single row is best on all of them." in out
    assert "WGAN-GP: FID n/a, not comparable" in out


def test_the_gan_vae_story_is_counted():
    out = text()
    # DCGAN vs VAE: precision higher (yes), VAE recall higher (yes), VAE coverage higher (yes).
    assert "DCGAN vs VAE (conv, k = 16): precision 0.800 vs 0.500, recall 0.200 vs 0.300, " \
           "coverage 0.300 vs 0.400: agrees with the story on 3 of 3." in out


def test_parzen_against_fid_and_absent_rows():
    out = text()
    assert "Rows that Parzen ranks above real data: none." in out
    assert "(no CGAN and ACGAN rows to compare)" in out
    assert "VAE (conv, k = 16): bound on -log p(x) = 90.0 nats per image." in out
    same_order = {name: dict(scores, parzen_ll=-scores["fid"]) for name, scores in RESULTS.items()
                  if not math.isnan(scores["fid"])}
    assert "rows: +1.00" in text(same_order)
