#!/usr/bin/env bash
# Re-vendor the GUI's JavaScript from the npm registry: npm pack each pinned package, copy its
# minified build into src/nfvo/ui/static/vendor/ and record version, licence and sha256 in
# VENDOR.md there. Run by a maintainer when a pin changes; CI and the runtime never use npm.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=src/nfvo/ui/static/vendor
# package@version  file inside the package  name in $DEST
PINS=(
  "htmx.org@2.0.11 package/dist/htmx.min.js htmx.min.js"
  "htmx-ext-sse@2.2.4 package/dist/sse.min.js htmx-ext-sse.min.js"
  "cytoscape@3.34.4 package/dist/cytoscape.min.js cytoscape.min.js"
)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"
{
  echo "# Vendored JavaScript"
  echo
  echo "Written by tools/vendor_ui.sh; do not edit by hand. Served from /ui/static/vendor/."
  echo
  echo "| file | package | version | licence | sha256 |"
  echo "|---|---|---|---|---|"
} >"$work/VENDOR.md"
for pin in "${PINS[@]}"; do
  read -r spec inner name <<<"$pin"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tgz="$(ls "$work"/*.tgz)"
  tar -xzf "$tgz" -C "$work"
  cp "$work/$inner" "$DEST/$name"
  # package.json's "license", else the first line of the package's LICENSE file
  licence="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("license", ""))' \
    "$work/package/package.json")"
  [ -n "$licence" ] || licence="$(head -n1 "$work"/package/LICENSE* | tr -d '\r')"
  sum="$(sha256sum "$DEST/$name" | cut -d' ' -f1)"
  echo "| $name | ${spec%@*} | ${spec##*@} | $licence | \`$sum\` |" >>"$work/VENDOR.md"
  cp "$work/package/LICENSE"* "$DEST/${name%%.*}.LICENSE" 2>/dev/null || true
  rm -rf "$work/package" "$tgz"
done
cp "$work/VENDOR.md" "$DEST/VENDOR.md"
