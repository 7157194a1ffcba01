# Shortcuts; each target installs what is missing first (scripts/setup.sh).
.PHONY: setup test book lab slides strip record

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

book:
	bash scripts/build_book.sh

# One reveal.js deck per notebook in book/_build/slides/ (builds the book first if needed).
slides:
	bash scripts/slides.sh

lab: setup
	.venv/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

strip:
	.venv/bin/python scripts/strip_notebooks.py notebooks/*.ipynb

# Re-run every notebook (smoke) and keep only the outputs of cells marked keep_output, which
# nbval compares (tag nbval-check-output); everything else is stripped.
record: setup
	COURSE_SCHEDULE=smoke OMP_WAIT_POLICY=PASSIVE COURSE_CHECKPOINTS=$$(mktemp -d) \
	  .venv/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb
	.venv/bin/python scripts/strip_notebooks.py notebooks/*.ipynb
