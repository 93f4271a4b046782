#!/usr/bin/env bash
# Refresh _vendor/ (the browser assets the built book loads from its own host)
# from the exact versions pinned in package.json / package-lock.json.
#
#   scripts/vendor.sh
#
# Needs node + npm and access to the npm registry. Nothing is installed in the
# repository: `npm ci` runs in a temporary directory, and only the files the
# pages actually load (plus license texts) are copied into _vendor/, which is
# then replaced as a whole. Commit package.json, package-lock.json and _vendor/
# together. To upgrade: edit the versions in package.json, run
# `npm install --package-lock-only --ignore-scripts`, then this script, then
# rebuild the book and run scripts/check_site_offline.py.
#
# Layout produced (html_static_path copies _vendor/* to _build/html/_static/):
#   mathjax/tex-chtml.js                     MathJax 3 (es5 combined component)
#   mathjax/output/chtml/fonts/woff-v2/      its CHTML fonts
#   mathjax/input/tex/extensions/            TeX extensions that tex-chtml.js
#                                            autoloads (\boldsymbol, \color, ...)
#   requirejs/require.js                     AMD loader needed by embed-amd.js
#   jupyter-widgets/require-paths.js         written here, see below
#   jupyter-widgets/mathjax-hub-shim.js      written here, see below
#   jupyter-widgets/embed-amd.js             @jupyter-widgets/html-manager
#   jupyter-widgets/<hash>.woff2             Font Awesome fonts it references
#   */LICENSE*, jupyter-widgets/THIRD-PARTY-NOTICES.txt, README.md, SHA256SUMS
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/_vendor"

command -v npm >/dev/null || { echo "vendor.sh: npm not found" >&2; exit 1; }
command -v node >/dev/null || { echo "vendor.sh: node not found" >&2; exit 1; }
[ -f "$ROOT/package.json" ] && [ -f "$ROOT/package-lock.json" ] || {
  echo "vendor.sh: package.json and package-lock.json are needed in $ROOT" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$WORK/"
(cd "$WORK" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

NM="$WORK/node_modules"
STAGE="$WORK/_vendor"
mkdir -p "$STAGE"

version() { node -p "require('$NM/$1/package.json').version"; }
need() { local f; for f in "$@"; do [ -e "$f" ] || { echo "vendor.sh: missing $f" >&2; exit 1; }; done; }

MATHJAX_V="$(version mathjax)"
REQUIREJS_V="$(version requirejs)"
HTMLMGR_V="$(version @jupyter-widgets/html-manager)"
FA_V="$(version @fortawesome/fontawesome-free)"

# --- MathJax ---------------------------------------------------------------
MJ="$NM/mathjax/es5"
need "$MJ/tex-chtml.js" "$MJ/output/chtml/fonts/woff-v2" "$MJ/input/tex/extensions" "$NM/mathjax/LICENSE"
mkdir -p "$STAGE/mathjax/output/chtml/fonts" "$STAGE/mathjax/input/tex"
cp "$MJ/tex-chtml.js" "$STAGE/mathjax/"
cp -R "$MJ/output/chtml/fonts/woff-v2" "$STAGE/mathjax/output/chtml/fonts/"
cp -R "$MJ/input/tex/extensions" "$STAGE/mathjax/input/tex/"
cp "$NM/mathjax/LICENSE" "$STAGE/mathjax/LICENSE"

# --- RequireJS ---------------------------------------------------------------
need "$NM/requirejs/require.js"
mkdir -p "$STAGE/requirejs"
cp "$NM/requirejs/require.js" "$STAGE/requirejs/"
# The npm package ships no LICENSE file; this is LICENSE at the 2.3.8 tag of
# https://github.com/requirejs/requirejs (MIT).
cat > "$STAGE/requirejs/LICENSE" <<'EOF'
Copyright jQuery Foundation and other contributors, https://jquery.org/

This software consists of voluntary contributions made by many
individuals. For exact contribution history, see the revision history
available at https://github.com/requirejs/requirejs

The following license applies to all parts of this software except as
documented below:

====

Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

====

Copyright and related rights for sample code are waived via CC0. Sample
code is defined as all source code displayed within the prose of the
documentation.

CC0: http://creativecommons.org/publicdomain/zero/1.0/

====

Files located in the node_modules directory, and certain utilities used
to build or test the software in the test and dist directories, are
externally maintained libraries used by this software which have their own
licenses; we recommend you read them, as their terms may differ from the
terms above.
EOF

# --- @jupyter-widgets/html-manager -------------------------------------------
HM="$NM/@jupyter-widgets/html-manager/dist"
need "$HM/embed-amd.js" "$HM/embed.js.LICENSE.txt" "$NM/@fortawesome/fontawesome-free/LICENSE.txt"
mkdir -p "$STAGE/jupyter-widgets"
cp "$HM/embed-amd.js" "$STAGE/jupyter-widgets/"
# embed-amd.js refers to its fonts as <webpack public path> + "<hash>.woff2"
# (and .woff/.ttf/.eot/.svg fallbacks, which browsers supporting woff2 never
# request). Copy exactly the .woff2 files it names.
WOFF2=$(grep -o '"[0-9a-f]\{20\}\.woff2"' "$HM/embed-amd.js" | tr -d '"' | sort -u)
[ -n "$WOFF2" ] || { echo "vendor.sh: no .woff2 names found in embed-amd.js" >&2; exit 1; }
for f in $WOFF2; do need "$HM/$f"; cp "$HM/$f" "$STAGE/jupyter-widgets/"; done
# Licence texts: html-manager is part of the ipywidgets monorepo (BSD-3-Clause;
# the npm package ships no LICENSE file, this is the repository's LICENSE), the
# bundle's third-party notices, and Font Awesome Free (fonts: SIL OFL 1.1).
cat > "$STAGE/jupyter-widgets/LICENSE" <<'EOF'
Copyright (c) 2015 Project Jupyter Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
EOF
cp "$HM/embed.js.LICENSE.txt" "$STAGE/jupyter-widgets/THIRD-PARTY-NOTICES.txt"
cp "$NM/@fortawesome/fontawesome-free/LICENSE.txt" "$STAGE/jupyter-widgets/LICENSE-fontawesome.txt"

# Our own small script (load order: require.js, this, embed-amd.js). The AMD
# modules inside embed-amd.js compute webpack's public path (where the .woff2
# files are fetched from) from RequireJS's module.uri, which by default is
# relative to the *page*. Mapping @jupyter-widgets/* onto this folder makes
# every module's public path this folder, wherever the page is.
cat > "$STAGE/jupyter-widgets/require-paths.js" <<'EOF'
/* Generated by scripts/vendor.sh; not part of any npm package.
 * Load after require.js and before embed-amd.js. Maps the @jupyter-widgets/*
 * AMD modules defined by embed-amd.js onto the folder holding this file, so
 * that the fonts they reference are fetched from here (not from the page's
 * folder or a CDN). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.require || !window.require.config) {
    console.error("require-paths.js: load require.js before this file");
    return;
  }
  var dir = script.src.replace(/[?#].*$/, "").replace(/\/[^\/]*$/, "");
  window.require.config({
    paths: {
      "@jupyter-widgets": dir,
      "@jupyter-widgets/html-manager/dist": dir
    }
  });
})();
EOF

# Second small script of ours (load order: after require-paths.js, before
# embed-amd.js). ipywidgets' typeset() calls the MathJax 2 API
# MathJax.Hub.Queue(["Typeset", MathJax.Hub, el]) whenever window.MathJax
# exists (jupyter-widgets/ipywidgets#3829); the book loads MathJax 3, which has
# no Hub, so every widget with a description threw a TypeError.
cat > "$STAGE/jupyter-widgets/mathjax-hub-shim.js" <<'EOF'
/* Generated by scripts/vendor.sh; not part of any npm package.
 * ipywidgets (html-manager) typesets widget labels with the MathJax 2 call
 * MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) whenever window.MathJax
 * is defined (jupyter-widgets/ipywidgets#3829). This book loads MathJax 3,
 * which has no MathJax.Hub: provide that one call on top of MathJax 3. On
 * pages without math, window.MathJax is undefined and ipywidgets skips it. */
(function () {
  "use strict";
  function install() {
    var MJ = window.MathJax;
    // Before tex-chtml.js has run, window.MathJax is only Sphinx's config
    // object (no .startup); MathJax 3 replaces it when it loads.
    if (!MJ || MJ.Hub || !MJ.startup || !MJ.startup.promise) { return; }
    MJ.Hub = {
      Queue: function () {
        var elements = [];
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) { elements.push(job[2]); }
        }
        if (!elements.length) { return; }
        MJ.startup.promise = MJ.startup.promise
          .then(function () { return MJ.typesetPromise(elements); })
          .catch(function (err) { console.error("MathJax typeset of a widget failed:", err); });
      }
    };
  }
  install();
  // MathJax (a deferred script) has run by DOMContentLoaded; the HTML manager
  // renders widgets on "load", after this listener (registered earlier) runs.
  document.addEventListener("DOMContentLoaded", install);
  window.addEventListener("load", install);
})();
EOF

# --- README + checksums ------------------------------------------------------
cat > "$STAGE/README.md" <<EOF
# Vendored browser assets

Generated by \`scripts/vendor.sh\` from \`package-lock.json\`; do not edit by
hand. Listed in \`html_static_path\` (\`_config.yml\`), so it is copied to
\`_build/html/_static/\` and the built book needs no CDN.

| package | version | license | files |
|---|---|---|---|
| mathjax | $MATHJAX_V | Apache-2.0 | \`mathjax/tex-chtml.js\`, \`mathjax/output/chtml/fonts/woff-v2/\`, \`mathjax/input/tex/extensions/\` |
| requirejs | $REQUIREJS_V | MIT | \`requirejs/require.js\` |
| @jupyter-widgets/html-manager | $HTMLMGR_V | BSD-3-Clause | \`jupyter-widgets/embed-amd.js\` (third-party notices in \`THIRD-PARTY-NOTICES.txt\`) |
| @fortawesome/fontawesome-free | $FA_V | OFL-1.1 (fonts) | \`jupyter-widgets/*.woff2\` (referenced by embed-amd.js) |

Written by the script itself (not from npm):
\`jupyter-widgets/require-paths.js\` tells RequireJS where the
\`@jupyter-widgets/*\` modules live, so that their fonts load from this folder;
\`jupyter-widgets/mathjax-hub-shim.js\` provides the MathJax 2 call
(\`MathJax.Hub.Queue\`) that ipywidgets makes, on top of MathJax 3
(jupyter-widgets/ipywidgets#3829). File checksums: \`SHA256SUMS\`.
EOF

(cd "$STAGE" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' \
   | xargs sha256sum > SHA256SUMS)

rm -rf "$DEST"
mkdir -p "$DEST"
cp -R "$STAGE/." "$DEST/"
echo "vendor.sh: wrote $DEST ($(du -sh "$DEST" | cut -f1)): mathjax $MATHJAX_V, requirejs $REQUIREJS_V, @jupyter-widgets/html-manager $HTMLMGR_V, fontawesome-free $FA_V"
