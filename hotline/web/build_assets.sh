#!/usr/bin/env bash
# Vendor the wallboard's charting library (Chart.js, MIT) from the npm registry into web/static/.
# The built file and its licence are committed, so a machine without node/npm runs the wallboard;
# run this script again to upgrade (CHARTJS_VERSION=4.x.y ./web/build_assets.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${CHARTJS_VERSION:-4.4.9}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v npm >/dev/null || { echo "build_assets: npm is not installed (apt-get install -y npm)" >&2; exit 2; }
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "chart.js@${version}" >/dev/null
src="$work/node_modules/chart.js"
cp "$src/dist/chart.umd.js" "$here/static/chart.umd.min.js"
cp "$src/LICENSE.md" "$here/static/chart.LICENSE.md"
echo "chart.js ${version}: $(wc -c < "$here/static/chart.umd.min.js") bytes -> web/static/chart.umd.min.js"
