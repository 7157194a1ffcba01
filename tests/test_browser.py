"""The built website and the slide decks in a real browser: Debian's headless Chromium, via Playwright.

Serves the smoke build of the book (the session fixture `built_book`) on 127.0.0.1, refuses every
request to any other host (site and decks must work offline), opens every page, and checks: no
failed request and no console error, math typeset by MathJax, a rendered figure on each notebook
page, no traceback in a cell output, and internal links that resolve. Then makes the slide decks
(scripts/slides.py) and opens each from file://. Screenshots of the landing page, a chapter page and
a deck go to book/_build/screenshots/.
"""

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from conftest import build_log

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = ROOT / "book" / "_build" / "screenshots"
LOCAL = re.compile(r"^(http://127\.0\.0\.1[:/]|file:|data:|blob:)")
REDIRECT = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', re.I)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: scripts/setup.sh installs it as root (apt-get install chromium)",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'")

# Runs in a page once it has loaded: waits for MathJax and the widget renderer, then reports.
INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  for (let i = 0; i < 100 && views.length && !document.querySelector('.jupyter-widgets'); i++)
    await new Promise(r => setTimeout(r, 100));
  const math = [...document.querySelectorAll('.math')];
  const outputs = [...document.querySelectorAll('.cell_output, .jp-OutputArea')];
  return {
    math: math.length,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    mathErrors: window.MathJax && MathJax.startup && MathJax.startup.document
      ? Array.from(MathJax.startup.document.math, m => MathJax.startup.toMML(m.root))
          .filter(mml => /<merror|mathcolor="red"/.test(mml)).map(mml => mml.slice(0, 200))
      : [],
    figures: [...document.querySelectorAll('.cell_output img, .jp-OutputArea img')]
      .filter(i => i.complete && i.naturalWidth > 0).length,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    tracebacks: outputs.filter(o => o.querySelector('.traceback, .output.error, [data-mime-type*="error"]')
                                    || /Traceback \\(most recent call last\\)/.test(o.textContent)).length,
    proseText: (() => {  // the visible text outside math, code and navigation
      const root = document.querySelector('main') || document.body;
      const skip = '.math, mjx-container, mjx-assistive-mml, pre, code, script, style, .highlight, nav';
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const parts = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode())
        if (!node.parentElement.closest(skip)) parts.push(node.textContent);
      return parts.join(' ');
    })(),
    outputWarnings: outputs.map(o => o.textContent)
      .filter(t => /\\b[A-Z]\\w*Warning\\b:|warnings\\.warn|Traceback/.test(t)).map(t => t.slice(0, 160)),
    solutions: document.querySelectorAll('.tag_hide-cell').length,
    openSolutions: [...document.querySelectorAll('.tag_hide-cell')]
      .filter(c => !c.querySelector('details') || c.querySelector('details').open).length,
    widgetViews: views.length,
    widgets: document.querySelectorAll('.jupyter-widgets').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
  };
}"""


def site_pages(html):
    """Every HTML page of the site (not the vendored JavaScript's files)."""
    skip = {"_static", "_sources", "_images", "vendor"}
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not skip & set(p.relative_to(html).parts))


@pytest.fixture(scope="module")
def served(built_book):
    """The built site on http://127.0.0.1:<port>/ (a quiet http.server in a thread)."""
    assert built_book.result.returncode == 0, build_log(built_book.result)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_book.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A page in headless Chromium with a fresh profile, and the list of problems it ran into
    (cleared by `visit`): refused network requests, failed requests, HTTP errors, console errors."""
    problems = []

    def refuse(route):
        problems.append(f"request to the network (refused): {route.request.url}")
        route.abort()

    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # the fresh --user-data-dir
            executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.route(lambda url: not LOCAL.match(url), refuse)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
        yield page, problems
        context.close()


def visit(browser, url, ready=None):
    """Open `url`, wait for `ready` (a selector) and MathJax; return INSPECT's report and problems."""
    page, problems = browser
    problems.clear()
    page.goto(url, wait_until="load")
    if ready:
        page.wait_for_selector(ready, state="attached", timeout=30_000)
    report = page.evaluate(INSPECT)
    page.wait_for_timeout(200)  # late console errors
    report["problems"] = list(problems)
    return report


@pytest.fixture(scope="module")
def visits(browser, served, built_book):
    """Every page of the site, opened once: {page: what it showed and what went wrong}."""
    pages = site_pages(built_book.html)
    results = {}
    for name in pages:
        redirect = REDIRECT.search((built_book.html / name).read_text())
        if redirect:  # index.html only redirects to the landing page
            results[name] = {"problems": [], "links": [served + redirect[1]], "ids": [], "math": 0,
                             "untypeset": [], "mathErrors": [], "figures": 0, "brokenImages": [],
                             "tracebacks": 0, "widgetViews": 0, "widgets": 0, "openSolutions": 0,
                             "proseText": "", "outputWarnings": []}
        else:
            results[name] = visit(browser, served + name)
    save_screenshots(browser[0], served, pages)
    return results


def save_screenshots(page, served, pages):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit((page, []), served + "intro.html")
    page.screenshot(path=SCREENSHOTS / "landing.png")
    chapter = next((p for p in pages if p.startswith("notebooks/")), None)
    if chapter:
        visit((page, []), served + chapter)
        page.screenshot(path=SCREENSHOTS / "chapter-top.png")
        figure = page.locator(".cell_output img").first
        if figure.count():
            figure.evaluate("img => img.scrollIntoView({block: 'center'})")
            page.screenshot(path=SCREENSHOTS / "chapter-figure.png")


def test_every_page_loads_offline_without_errors(visits):
    assert "intro.html" in visits and any(p.startswith("notebooks/") for p in visits), sorted(visits)
    bad = [f"{name}: {p}" for name, r in visits.items() for p in r["problems"]]
    assert not bad, "\n".join(bad)


def test_math_is_typeset(visits):
    assert sum(r["math"] for r in visits.values()) > 0, "no page has math: is MathJax configured?"
    for name, r in visits.items():
        assert not r["untypeset"], f"{name}: MathJax left these untypeset: {r['untypeset'][:3]}"
        assert not r["mathErrors"], f"{name}: TeX errors (undefined macros in red): {r['mathErrors'][:3]}"


def test_notebook_pages_show_figures_and_no_tracebacks(visits):
    for name, r in visits.items():
        assert not r["brokenImages"], f"{name}: images that did not load: {r['brokenImages']}"
        if name.startswith("notebooks/"):
            assert r["figures"] >= 1, f"{name}: no rendered figure in the cell outputs"
            assert r["tracebacks"] == 0, f"{name}: {r['tracebacks']} cell outputs show a traceback"


# What a page shows when its Markdown was parsed wrongly: TeX commands as text (dollars paired
# wrongly), or a Markdown table left as a block of | text (typography turns --- into dashes).
RAW_TEX = re.compile(r"\\(?:[A-Za-z]{2,}|[{}|,;!])|\$\$")
RAW_TABLE = re.compile(r"\|\s*:?[-\u2013\u2014]+:?\s*\|")


def leftover_markup(text):
    return sorted({m.group(0) for pattern in (RAW_TEX, RAW_TABLE) for m in pattern.finditer(text)})


def test_leftover_markup_is_recognised():
    assert leftover_markup(r"so that D \le 1 and \mathrm{IS} holds") == [r"\le", r"\mathrm"]
    assert leftover_markup("| model | IS |\n|\u2014|\u2014:|") == ["|\u2014|"]
    assert leftover_markup("costs $5 and a | pipe, 3 - 2 = 1") == []


def test_pages_show_no_raw_tex_tables_or_warnings(visits):
    """Outside math and code, no page shows TeX commands or Markdown table rows as text, and no cell
    output shows a Python warning or traceback."""
    for name, r in visits.items():
        assert not leftover_markup(r["proseText"]), (
            f"{name}: markup shown as text (math delimiters paired wrongly, or a table not "
            f"rendered): {leftover_markup(r['proseText'])[:5]}")
        assert not r["outputWarnings"], f"{name}: an output shows a warning: {r['outputWarnings'][:2]}"


def test_exercise_solutions_are_collapsed(visits):
    """Cells tagged hide-cell (the solutions) are closed <details> until the reader opens them."""
    for name, r in visits.items():
        assert r["openSolutions"] == 0, f"{name}: {r['openSolutions']} solution cells shown open"


def test_progress_bar_widgets_render(visits):
    """Executed tqdm bars are saved as widget state; the vendored html-manager must draw them."""
    for name, r in visits.items():
        if r["widgetViews"]:
            assert r["widgets"] > 0, f"{name}: {r['widgetViews']} widget outputs, none rendered"


def test_internal_links_resolve(visits, served, built_book):
    broken = []
    for name, r in visits.items():
        for link in r["links"]:
            if not link.startswith(served):
                continue  # external (Colab, arXiv): not fetched here
            url, fragment = urldefrag(link)
            target = unquote(urlparse(url).path).lstrip("/") or "index.html"
            path = built_book.html / target
            if path.is_dir():
                target, path = f"{target.rstrip('/')}/index.html".lstrip("/"), path / "index.html"
            if not path.is_file():
                broken.append(f"{name} -> {target} (no such file)")
            elif fragment and target in visits and unquote(fragment) not in visits[target]["ids"]:
                broken.append(f"{name} -> {target}#{fragment} (no such anchor)")
    assert not broken, "\n".join(sorted(set(broken)))


def test_slide_decks_open_offline(browser, built_book):
    """scripts/slides.py makes a deck per notebook from the build; each opens from file:// with no
    network, with reveal.js running, math typeset, figures shown and no error."""
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "slides.py"), "--book", str(built_book.root)],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    decks = sorted((built_book.root / "_build" / "slides").glob("*.slides.html"))
    notebooks = re.findall(r"file:\s*notebooks/", (built_book.root / "_toc.yml").read_text())
    assert len(decks) == len(notebooks) >= 1, f"{len(decks)} decks for {len(notebooks)} notebooks"
    for deck in decks:
        r = visit(browser, deck.as_uri(), ready=".reveal.ready")
        assert not r["problems"], f"{deck.name}:\n" + "\n".join(r["problems"])
        assert browser[0].evaluate("Reveal.getTotalSlides()") > 1, f"{deck.name}: a single slide"
        assert r["typeset"] > 0 and not r["mathErrors"], f"{deck.name}: math not typeset {r['mathErrors']}"
        assert r["figures"] >= 1 and not r["brokenImages"], f"{deck.name}: no figure, or a broken one"
        assert r["tracebacks"] == 0, f"{deck.name}: an output shows a traceback"
    browser[0].goto(decks[0].as_uri() + "#/1", wait_until="load")
    browser[0].wait_for_timeout(1000)
    browser[0].screenshot(path=SCREENSHOTS / "slides.png")


def test_screenshots_saved(visits, capsys):
    """Runs last: the landing page, a chapter page and a slide, for a person (or CI) to look at."""
    for shot in (SCREENSHOTS / "landing.png", SCREENSHOTS / "chapter-top.png", SCREENSHOTS / "slides.png"):
        assert shot.is_file() and shot.stat().st_size > 10_000, f"{shot} missing or blank"
    with capsys.disabled():
        print("\nscreenshots:", *sorted(SCREENSHOTS.glob("*.png")), sep="\n  ")
