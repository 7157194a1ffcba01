#!/usr/bin/env bash
# The whole test suite: lint, unit tests, and the book build, which runs every notebook once with the
# smoke schedule (tests/test_book.py: each cell runs without error, checked outputs match; then the
# site's checks and the browser test). Installs what is missing first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export COURSE_SCHEDULE=smoke
# Idle OpenMP threads sleep instead of spinning: on 2 cores, spinning threads of one process
# starve every other (measured 10-20x slower training whenever a second process is busy).
export OMP_WAIT_POLICY=PASSIVE
# Fresh checkpoints, so nothing in the suite loads an earlier run's models (the book build uses
# its own fresh folder, so every notebook really trains).
COURSE_CHECKPOINTS=$(mktemp -d)
export COURSE_CHECKPOINTS
trap 'rm -rf "$COURSE_CHECKPOINTS"' EXIT

.venv/bin/ruff check .
.venv/bin/python -m pytest -p no:cacheprovider "$@" tests
