#!/usr/bin/env bash
# The whole test suite: lint, unit tests, the book build, and every notebook under nbval with the
# smoke schedule. Installs what is missing first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export COURSE_SCHEDULE=smoke
# Idle OpenMP threads sleep instead of spinning: on 2 cores, spinning threads of one process
# starve every other (measured 10-20x slower training whenever a second process is busy).
export OMP_WAIT_POLICY=PASSIVE
# Fresh checkpoints, so every notebook really trains instead of loading an earlier run's models.
COURSE_CHECKPOINTS=$(mktemp -d)
export COURSE_CHECKPOINTS
trap 'rm -rf "$COURSE_CHECKPOINTS"' EXIT

.venv/bin/ruff check .
.venv/bin/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider "$@" tests notebooks
