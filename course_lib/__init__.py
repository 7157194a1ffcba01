"""course_lib: the small, tested helpers behind the course's notebooks.

Read it bottom up; each module imports only those below it (tests/test_layers.py checks it):
- runtime (schedule, device, seed), checks (input checks), data (datasets, batches, 2-D mixtures);
- nets (every network, `eval_mode`, `generate`), losses and scores (pure: tensors in, tensors out),
  ot (optimal transport), clustering (k-means, matching clusters to classes);
- train (the fit loop), checkpoints (verified files), recipe (the one skeleton: a config dataclass,
  `build(config)` and `step(...)`; `recipe.train` and `recipe.load_or_train` serve every model, and a
  checkpoint stores its config, so it is loaded only for exactly that config);
- the recipes, one small module each: pca, autoencoders, vae, cvae, gan, cgan, wgan, infogan, and
  evaluator (the classifier whose features the scores use);
- toy (GANs on 2-D mixtures), table (the comparison table: the only module importing every recipe),
  claims (notebook 10's discussion, computed from the table), plots, exercises (one checker module per chapter), recorded (recorded runs, in recorded_runs.json).
`python -m course_lib` trains and scores the recipes from the shell (on top of table).
"""

__version__ = "0.1.0"
