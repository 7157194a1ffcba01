"""The claims notebook 10's discussion makes, computed from a run's comparison table.

`discussion(results, ...)` returns the lines of text the notebook prints: which row is best on
which score, whether the GAN-vs-VAE story holds, how Parzen and FID rankings agree, ... each
read off `results` ({row name: scores dict}, as `table` makes them), so the text always agrees
with the run. A row whose chapter is absent is skipped, and so is a comparison with a missing or
NaN score.
"""

import math

import numpy as np

SCORES = (("fid", False), ("is", True), ("diversity", False), ("precision", True), ("recall", True),
          ("coverage", True))  # (key, higher is better)


class Rows:
    """The table's rows by role, and its scores as floats (None when missing or NaN)."""

    def __init__(self, results):
        self.results = results
        self.real = self.named("real data")
        self.generated = [name for name in results if name != self.real]
        self.pca, self.ae_standard, self.ae_fitted = (
            self.named("PCA sampler"), self.named("AE decoding z"), self.named("AE decoding a Gaussian"))
        self.vae, self.cvae = self.named("VAE"), self.named("CVAE")
        self.mlp, self.dcgan = self.named("MLP GAN"), self.named("DCGAN")
        self.cgan, self.acgan = self.named("CGAN"), self.named("ACGAN")
        self.wgans = present(self.named("WGAN ("), self.named("WGAN-GP"))
        self.infogan = self.named("InfoGAN")
        self.techniques = [name for name in results if name.startswith("DCGAN + ")]  # notebook 11's rows

    def named(self, prefix):
        """The name of the row that starts with `prefix`, or None when the row is absent."""
        return next((name for name in self.results if name.startswith(prefix)), None)

    def score(self, name, key):
        value = None if name is None else self.results[name].get(key)
        return float(value) if value is not None and math.isfinite(value) else None

    def shown(self, name, key, spec=".3f"):
        value = self.score(name, key)
        return "n/a" if value is None else format(value, spec)

    def better(self, name, other, key, higher=True):
        """Whether row `name` beats row `other` on `key` (None when either score is missing)."""
        a, b = self.score(name, key), self.score(other, key)
        return None if a is None or b is None else (a > b if higher else a < b)

    def best(self, names, key, higher=True):
        """The row of `names` with the best finite `key`, or None when no row has one."""
        scored = [name for name in names if self.score(name, key) is not None]
        return max(scored, key=lambda name: self.score(name, key) * (1 if higher else -1), default=None)

    def ratio(self, name, other, key):
        a, b = self.score(name, key), self.score(other, key)
        return "undefined" if a is None or not b else f"{a / b:.2f}"


def present(*names):
    return [name for name in names if name is not None]


def word(outcome, yes, no, missing="not comparable (a score is missing)"):
    return {True: yes, False: no}.get(outcome, missing)


def tv_sampling_floor(histogram, n, n_reference):
    """The expected TV distance between the class histograms of n and of n_reference independent
    draws from the same class probabilities q, for large counts: each class's difference of
    shares is about normal with variance v = q (1 - q) (1/n + 1/n_reference), so its mean absolute
    value is sqrt(2 v / pi), and TV is half their sum."""
    q = np.asarray(histogram, dtype=float)
    variance = q * (1 - q) * (1 / n + 1 / n_reference)
    return float(0.5 * np.sqrt(2 * variance / np.pi).sum())


def real_data_lines(rows, is_ceiling, real_histogram, n_reference):
    real = rows.real
    lowest = rows.best(rows.results, "fid", higher=False)
    lines = [f"Lowest FID of all rows: {lowest} ({rows.shown(lowest, 'fid', '.2f')})"
             + ("." if lowest == real else f"; the real-data row has {rows.shown(real, 'fid', '.2f')}.")]
    real_is = rows.score(real, "is")
    if real_is is not None and is_ceiling:
        lines.append(f"IS of the held-out training images {real_is:.2f}, of the test images "
                     f"themselves {is_ceiling:.2f} ({(real_is - is_ceiling) / is_ceiling:+.1%}).")
    lines.append(f"Precision {rows.shown(real, 'precision')}, recall {rows.shown(real, 'recall')}, "
                 f"coverage {rows.shown(real, 'coverage')} (each 1 for a perfect estimate of the "
                 "manifold).")
    n_real = rows.results[real].get("n")
    if n_real:
        lines.append(f"Class-diversity TV {rows.shown(real, 'diversity')}; the sampling floor for "
                     f"{n_real} images against {n_reference} is about "
                     f"{tv_sampling_floor(real_histogram, n_real, n_reference):.3f}.")
    return lines


def best_row_lines(rows):
    winners = {key: rows.best(rows.generated, key, higher) for key, higher in SCORES}
    lines = [f"{key:<10} {winner} ({rows.shown(winner, key)})" for key, winner in winners.items()]
    lines.append("One row is best on all of them." if len(set(winners.values())) == 1
                 else "No single row is best on all of them.")
    return lines


def baseline_lines(rows):
    baselines = present(rows.pca, rows.ae_standard, rows.ae_fitted)
    wins = [key for key, higher in SCORES if rows.best(baselines, key, higher) == rows.ae_fitted]
    lines = [f"Best of the {len(baselines)} baselines on {len(wins)} of {len(SCORES)} scores "
             f"({', '.join(wins) or 'none'})."]
    for key, higher in [("fid", False), ("recall", True)]:
        beaters = [name for name in rows.generated if rows.better(name, rows.ae_fitted, key, higher)]
        lines.append(f"Rows that beat its {key} ({rows.shown(rows.ae_fitted, key)}): "
                     + (", ".join(f"{name} ({rows.shown(name, key)})" for name in beaters) or "none")
                     + ".")
    return lines


def fidelity_coverage_lines(rows):
    pairs = [(gan_name, vae_name) for vae_name, gan_names in
             [(rows.vae, [rows.mlp, rows.dcgan, *rows.wgans, rows.infogan]),
              (rows.cvae, [rows.cgan, rows.acgan])]
             for gan_name in present(*gan_names) if vae_name is not None]
    lines = []
    for gan_name, vae_name in pairs:
        story = [rows.better(gan_name, vae_name, "precision"), rows.better(vae_name, gan_name, "recall"),
                 rows.better(vae_name, gan_name, "coverage")]
        compared = ", ".join(f"{key} {rows.shown(gan_name, key)} vs {rows.shown(vae_name, key)}"
                             for key in ("precision", "recall", "coverage"))
        lines.append(f"{gan_name} vs {vae_name}: {compared}: agrees with the story on "
                     f"{story.count(True)} of 3.")
    if not pairs:
        lines.append("(needs a VAE row and a GAN row)")
    if rows.mlp is not None:
        p, r = rows.score(rows.mlp, "precision"), rows.score(rows.mlp, "recall")
        above = word(None if p is None or r is None else p > r, "above", "not above")
        lines.append(f"The MLP GAN alone: precision {rows.shown(rows.mlp, 'precision')} is {above} "
                     f"its recall {rows.shown(rows.mlp, 'recall')}.")
    return lines


def conditional_lines(rows, n_classes):
    lines = [f"{name}: {rows.shown(name, 'class_share')} of its samples in the requested class "
             f"(chance {1 / n_classes:.3f}); class-diversity TV {rows.shown(name, 'diversity')} "
             f"(real data: {rows.shown(rows.real, 'diversity')})."
             for name in rows.results if rows.score(name, "class_share") is not None]
    cgan, acgan = rows.cgan, rows.acgan
    if cgan is None or acgan is None:
        return lines + ["(no CGAN and ACGAN rows to compare)"]
    lower_recall = word(rows.better(acgan, cgan, "recall", higher=False), "lower", "not lower")
    higher_fid = word(rows.better(cgan, acgan, "fid", higher=False), "higher", "not higher")
    return lines + [
        f"ACGAN / CGAN: recall ratio {rows.ratio(acgan, cgan, 'recall')} (ACGAN's recall "
        f"{lower_recall}), FID ratio {rows.ratio(acgan, cgan, 'fid')} (ACGAN's FID {higher_fid}).",
        f"Precision {rows.shown(acgan, 'precision')} vs {rows.shown(cgan, 'precision')}, requested "
        f"class {rows.shown(acgan, 'class_share')} vs {rows.shown(cgan, 'class_share')}."]


def wasserstein_info_lines(rows, recipe_notes=()):
    others = present(*rows.wgans, rows.infogan, *rows.techniques)
    if rows.dcgan is None or not others:
        return ["(needs the DCGAN row and at least one of the others)"]
    lines = []
    for name in others:
        verdict = word(rows.better(name, rows.dcgan, "fid", higher=False), "lower", "not lower",
                       "not comparable")
        lines.append(f"{name}: FID {rows.shown(name, 'fid', '.2f')}, {verdict} (the DCGAN's: "
                     f"{rows.shown(rows.dcgan, 'fid', '.2f')}).")
    return lines + list(recipe_notes)


def parzen_lines(rows):
    ranked = [name for name in rows.results
              if rows.score(name, "fid") is not None and rows.score(name, "parzen_ll") is not None]
    if len(ranked) < 3:
        return ["(needs at least 3 rows with both scores)"]
    fid_rank = {name: i + 1 for i, name in enumerate(sorted(ranked, key=lambda n: rows.score(n, "fid")))}
    parzen_order = sorted(ranked, key=lambda n: -rows.score(n, "parzen_ll"))
    parzen_rank = {name: i + 1 for i, name in enumerate(parzen_order)}
    rho = np.corrcoef([fid_rank[n] for n in ranked], [parzen_rank[n] for n in ranked])[0, 1]
    worst = max(ranked, key=lambda name: abs(fid_rank[name] - parzen_rank[name]))
    lines = [f"Spearman correlation of the two rankings over {len(ranked)} rows: {rho:+.2f} "
             "(+1: the same order).",
             f"Largest disagreement: {worst}, rank {fid_rank[worst]} by FID, {parzen_rank[worst]} "
             "by Parzen."]
    if rows.real in ranked:
        above = [name for name in parzen_order if parzen_rank[name] < parzen_rank[rows.real]]
        lines.append("Rows that Parzen ranks above real data: " + (", ".join(above) or "none") + ".")
    return lines


def likelihood_lines(rows):
    return [f"{name}: bound on {what} = {rows.shown(name, 'nll', '.1f')} nats per image."
            for name, what in [(rows.vae, "-log p(x)"), (rows.cvae, "-log p(x | y)")]
            if rows.score(name, "nll") is not None]


def discussion(results, is_ceiling, real_histogram, n_reference, recipe_notes=()):
    """The numbered sections of notebook 10's discussion, as lines of text. `real_histogram`: the
    evaluator's class histogram of the n_reference test images the rows are compared with;
    `is_ceiling`: their IS; `recipe_notes`: lines added to the WGAN/InfoGAN section."""
    rows = Rows(results)
    sections = [
        ("The real-data row",
         real_data_lines(rows, is_ceiling, real_histogram, n_reference) if rows.real else []),
        ("The best generated row on each score", best_row_lines(rows)),
        ("Against the AE with a fitted Gaussian (notebook 01)",
         baseline_lines(rows) if rows.ae_fitted else []),
        ("Fidelity or coverage. The story: the GAN has the higher precision, the VAE of its kind "
         "the higher recall and coverage", fidelity_coverage_lines(rows)),
        ("Conditional rows (balanced labels)", conditional_lines(rows, len(real_histogram))),
        ("WGAN, WGAN-GP, InfoGAN and the DCGAN with a technique of notebook 11 against the DCGAN",
         wasserstein_info_lines(rows, recipe_notes)),
        ("Parzen ranking against FID ranking", parzen_lines(rows)),
        ("Likelihood: IWAE-50 upper bounds on -log p(x), one fixed binarization of test images",
         likelihood_lines(rows)),
    ]
    return [line for number, (title, body) in enumerate(sections, 1)
            for line in [f"{number}. {title}", *(f"   {text}" for text in body)]]
