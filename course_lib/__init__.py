"""course_lib: the small, tested helpers behind the course's notebooks.

Modules, one idea each: runtime (schedule, device, seed), data (datasets, batches, 2-D mixtures),
nets (building blocks), losses (objectives), train (fit loop), plots, checkpoints, exercises
(checkers), metrics (evaluator, scores, the comparison table), and one recipe module per model:
pca, autoencoders, vae, cvae, gan, cgan, wgan, infogan (metrics_toy scores the 2-D mixtures).
`recorded` serves the recorded runs the notebooks quote (values in recorded_runs.json).
`python -m course_lib` trains and scores them from the shell.
"""

__version__ = "0.1.0"
