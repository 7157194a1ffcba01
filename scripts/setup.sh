#!/usr/bin/env bash
# Install what this machine lacks for the course, and nothing that is already there:
#   - a virtual environment in .venv with course_lib and its dev tools (pip install -e ".[dev]"),
#     redone only when pyproject.toml changes;
#   - Fashion-MNIST from Debian's dataset-fashion-mnist package, the offline dataset (when apt-get
#     exists and we may use it; online users get MNIST from torchvision instead).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.course-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "setup: installing course_lib and its dependencies into .venv (torch is large: minutes)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    rm -f .venv/.course-installed-*
    touch "$stamp"
fi

if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing Debian's dataset-fashion-mnist (offline copy of Fashion-MNIST)"
        apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
        echo "setup: not root; skipping 'apt-get install dataset-fashion-mnist' (MNIST downloads online)"
    fi
fi
