#!/usr/bin/env bash
# Lecture slides: one reveal.js deck per notebook of the book, in book/_build/slides/, that opens
# offline (book/_build/slides/index.html lists them). The decks show the outputs of the book's last
# build; when a notebook is missing there or changed since, the book is built first (with
# COURSE_SCHEDULE as for build_book.sh, default full: COURSE_SCHEDULE=smoke for quick decks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/vendor_js.sh

if ! .venv/bin/python scripts/slides.py --check; then
    echo "slides: building the book first"
    bash scripts/build_book.sh
fi
.venv/bin/python scripts/slides.py
