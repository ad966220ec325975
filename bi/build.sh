#!/usr/bin/env bash
# Builds the dashboard (bi/dist/, a static site) from the database the PG* variables name:
#   PGHOST=... PGPORT=... PGDATABASE=shop PGUSER=segments_dashboard bash bi/build.sh [--check DIR]
# The login needs nothing but pg_segments_reader. Installs the pinned npm packages first (npm ci,
# skipped while node_modules matches the lockfile). --check DIR then opens every page in headless
# Chromium, saves screenshots in DIR and fails unless every chart drew data (bi/check.mjs).
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/npm-ci .
rm -rf dist src/.observablehq/cache/data
node_modules/.bin/observable build
if [ "${1:-}" = --check ]; then
  node check.mjs "${2:?screenshot directory}"
fi
