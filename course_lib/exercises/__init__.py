"""Checkers for the learners' exercises, one module per notebook, and `show_source`.

Each checker takes the learner's function, runs it on cases with known answers and prints
"correct" or raises AssertionError saying what differs. A function that still raises
NotImplementedError is reported as not attempted yet, without failing the notebook
(the shared machinery is in `checking`).

Notebooks write `from course_lib import exercises` then `exercises.check_...(fn)`, so every
checker is re-exported here.
"""

import inspect

from .ch01_pca_autoencoders import check_pca_error_formula, check_pca_projection, check_pixel_mse
from .ch02_vae import check_gaussian_kl, check_iwae_bound, check_reparameterize
from .ch03_conditional_vae import (
    check_class_posterior,
    check_condition_input,
    check_transfer_style,
)
from .ch04_gan import (
    check_mode_coverage,
    check_nonsaturating_loss,
    check_optimal_discriminator_gaussians,
)
from .ch05_dcgan import check_conv_transpose_size, check_dcgan_init, check_slerp
from .ch06_conditional_gan import (
    check_acgan_discriminator_loss,
    check_label_planes,
    check_projection_logit,
)
from .ch07_wgan import check_clip_weights, check_js_discrete, check_w1_sorted
from .ch08_wgan_gp import (
    check_gradient_penalty,
    check_one_sided_penalty,
    check_soft_penalty_optimum,
)
from .ch09_infogan import (
    check_categorical_mi_bound,
    check_gaussian_code_nll,
    check_matching_accuracy,
)
from .ch10_evaluation import check_coverage, check_frechet_diagonal, check_inception_score

__all__ = [
    "show_source",
    "check_pixel_mse", "check_pca_projection", "check_pca_error_formula",
    "check_gaussian_kl", "check_reparameterize", "check_iwae_bound",
    "check_condition_input", "check_class_posterior", "check_transfer_style",
    "check_nonsaturating_loss", "check_optimal_discriminator_gaussians", "check_mode_coverage",
    "check_conv_transpose_size", "check_dcgan_init", "check_slerp",
    "check_label_planes", "check_acgan_discriminator_loss", "check_projection_logit",
    "check_w1_sorted", "check_clip_weights", "check_js_discrete",
    "check_gradient_penalty", "check_one_sided_penalty", "check_soft_penalty_optimum",
    "check_categorical_mi_bound", "check_gaussian_code_nll", "check_matching_accuracy",
    "check_inception_score", "check_frechet_diagonal", "check_coverage",
]


def show_source(obj):
    """Show the source of a course_lib function or class (notebooks import, they do not copy)."""
    source = inspect.getsource(obj)
    try:
        from IPython.display import Markdown, display  # optional: plain text outside Jupyter

        display(Markdown(f"```python\n{source}```"))
    except ImportError:
        print(source)
