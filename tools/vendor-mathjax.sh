#!/usr/bin/env bash
# Re-create book/_vendor/mathjax from the npm registry: the site must load nothing from outside,
# so MathJax is served from our own _static. Keeps only what tex-mml-chtml needs (about 3 MB):
# the combined component, the CHTML woff-v2 fonts, the TeX extensions it may autoload, and the
# menu/accessibility components it loads on demand.
set -euo pipefail
version=${1:-3.2.2}
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/book/_vendor/mathjax"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf "mathjax-$version.tgz")
src="$tmp/package"
rm -rf "$dest"
mkdir -p "$dest/output/chtml/fonts" "$dest/input/tex"
cp "$src/LICENSE" "$src/es5/tex-mml-chtml.js" "$dest/"
cp -r "$src/es5/output/chtml/fonts/woff-v2" "$dest/output/chtml/fonts/"
cp -r "$src/es5/input/tex/extensions" "$dest/input/tex/"
cp -r "$src/es5/ui" "$src/es5/a11y" "$dest/"
echo "mathjax $version from the npm registry (package mathjax), trimmed by tools/vendor-mathjax.sh" > "$dest/VERSION"
echo "vendored mathjax $version into $dest ($(du -sh "$dest" | cut -f1))"
