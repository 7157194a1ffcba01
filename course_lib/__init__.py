"""course_lib: the small, tested helpers behind the course's notebooks.

Modules, one idea each: runtime (schedule, device, seed), data (datasets, batches, 2-D mixtures),
nets (building blocks), losses (objectives), train (fit loop), plots, checkpoints, pca,
autoencoders (recipe), exercises (checkers).
"""

__version__ = "0.1.0"
