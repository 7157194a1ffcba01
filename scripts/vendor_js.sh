#!/usr/bin/env bash
# Fetch the JavaScript the website and the slides load, so that they work with no network (lecture
# halls often have none): MathJax 3, the Jupyter-widgets html-manager (draws the executed progress
# bars), and for the slides reveal.js and RequireJS (nbconvert's slides load reveal.js with it).
# They come from npm (`npm pack`, pinned versions below) into book/_extra/vendor/, which Sphinx copies
# as-is to the site's vendor/ folder (html_extra_path; not _static, whose every .js file Jupyter Book
# would load on every page). The folder is .gitignored. Does nothing when those versions are there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="mathjax@3.2.2 @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.7 reveal.js@5.2.1"
dest=book/_extra/vendor
want="$PACKAGES (vendor_js.sh $(sha256sum scripts/vendor_js.sh | cut -c1-12))"
if [ -f "$dest/VERSIONS" ] && [ "$(cat "$dest/VERSIONS")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor_js: npm is missing; install Node.js (e.g. apt-get install npm), then run" \
         "bash scripts/vendor_js.sh (the website's math and slides need these files)" >&2
    exit 1
fi

echo "vendor_js: fetching $PACKAGES from npm into $dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for package in $PACKAGES; do
    name=${package%@*}
    mkdir -p "$tmp/$name"
    npm pack --loglevel=error --pack-destination "$tmp/$name" "$package" >/dev/null
    tar -xzf "$tmp/$name"/*.tgz -C "$tmp/$name"
done

rm -rf "$dest"
mkdir -p "$dest/mathjax" "$dest/html-manager" "$dest/reveal.js/plugin"
# MathJax: the TeX+MathML component Sphinx uses, with the fonts, TeX extensions and accessibility
# parts it loads on demand (relative to its own location).
mathjax="$tmp/mathjax/package/es5"
cp -r "$mathjax/tex-mml-chtml.js" "$mathjax/input" "$mathjax/output" "$mathjax/a11y" "$mathjax/ui" \
      "$mathjax/sre" "$dest/mathjax/"
# html-manager: the standalone bundle (base and controls widgets included, no RequireJS needed) and
# the icon fonts its CSS refers to (looked up beside the script); no source maps.
cp "$tmp/@jupyter-widgets/html-manager/package/dist/embed.js" \
   "$tmp/@jupyter-widgets/html-manager/package/dist/"*.{woff,woff2,ttf,eot,svg} "$dest/html-manager/"
cp "$tmp/requirejs/package/require.js" "$dest/"
# reveal.js: the built library with its themes, and the speaker-notes plugin.
cp -r "$tmp/reveal.js/package/dist" "$dest/reveal.js/"
cp -r "$tmp/reveal.js/package/plugin/notes" "$dest/reveal.js/plugin/"
find "$dest" -name '*.map' -delete
for package in $PACKAGES; do
    license=$(ls "$tmp/${package%@*}/package/" | grep -i -m1 '^licen[cs]e' || true)
    [ -z "$license" ] || cp "$tmp/${package%@*}/package/$license" "$dest/LICENSE.$(basename "${package%@*}")"
done
echo "$want" > "$dest/VERSIONS"
echo "vendor_js: done ($(du -sh "$dest" | cut -f1))"
