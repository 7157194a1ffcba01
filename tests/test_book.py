"""The website builds offline from the notebooks (smoke schedule) and shows their figures."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed")
def test_book_builds_with_figures_and_no_tracebacks(tmp_path):
    # Build a copy, so the test never touches a real build (or its execution cache).
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, symlinks=False, ignore=shutil.ignore_patterns("_build"))
    env = dict(os.environ, COURSE_SCHEDULE="smoke", COURSE_CHECKPOINTS=str(tmp_path / "ckpt"))
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book), "--warningiserror", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = book / "_build" / "html"
    assert (html / "index.html").is_file()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = (html / "notebooks" / f"{notebook.stem}.html").read_text()
        assert re.search(r"<img[^>]+\.png", page), f"{notebook.name}: no figure on its page"
        assert "Traceback" not in page, f"{notebook.name}: an output contains a traceback"
        assert "schedule: smoke" in page, f"{notebook.name}: the run line is missing"
