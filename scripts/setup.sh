#!/usr/bin/env bash
# Install what this machine lacks for the course, and nothing that is already there:
#   - a virtual environment in .venv with course_lib and its dev tools (pip install -e ".[dev]"),
#     redone only when pyproject.toml changes;
#   - Fashion-MNIST from Debian's dataset-fashion-mnist package, the offline dataset (when apt-get
#     exists and we may use it; online users get MNIST from torchvision instead);
#   - Debian's chromium, for the browser test (tests/test_browser.py), and npm, when root;
#   - the website's and the slides' JavaScript (MathJax, widgets, reveal.js) from npm into
#     book/_extra/vendor (scripts/vendor_js.sh), so that they work offline.
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

# Chromium for tests/test_browser.py (skipped without it) and npm for scripts/vendor_js.sh.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing Debian's$missing"
        # shellcheck disable=SC2086  # one package per word
        { apt-get update -qq && apt-get install -y -qq $missing >/dev/null; } \
            || echo "setup: warning: could not install$missing (the browser test will be skipped)" >&2
    else
        echo "setup: not root; skipping 'apt-get install$missing' (needed by the browser test / vendor_js.sh)"
    fi
fi

# Silent when the files are there already.
bash scripts/vendor_js.sh \
    || echo "setup: warning: no vendored JavaScript, so the website's math and slides will not work" >&2
