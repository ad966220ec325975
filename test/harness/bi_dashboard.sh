#!/usr/bin/env bash
# The ready-made dashboard (bi/, Observable Framework) built against a small demo shop through a
# login that has only segments_reader, then every page opened in headless Chromium: each chart
# must have drawn data marks (checked in the DOM), no page may fail or reach the network.
# Screenshots: build/bi-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.scheduler_enabled = off"
t0=$SECONDS
pgs_demo_shop bi_shop 20000 2000 7
pgs_psql -c "SET client_min_messages = error" -f demo/install_packs.sql \
  -c "CALL segments.refresh_due()" >/dev/null
pgs_psql -v months=6 -f demo/replay_history.sql >/dev/null
pgs_psql -f demo/dashboard_login.sql >/dev/null
echo "demo shop ready in $((SECONDS - t0))s"

t0=$SECONDS
mkdir -p build
out=$PWD/build/bi-screenshots
rm -rf "$out"
PGDATABASE=bi_shop PGUSER=segments_dashboard bash bi/build.sh --check "$out" > build/bi-check.log 2>&1 \
  || { tail -40 build/bi-check.log; fail "dashboard build or check"; }
grep -E '^(ok|FAIL) - ' build/bi-check.log
summary=$(tail -1 build/bi-check.log)
charts=$(node -e 'const s = JSON.parse(process.argv[1]); console.log(s.charts)' "$summary")
[ "$charts" -ge 12 ] || fail "only $charts charts drew data"
ok "dashboard built and checked in $((SECONDS - t0))s: 6 pages, $charts charts with data, screenshots in $out"

pgs_psql -d postgres -c "DROP DATABASE bi_shop" >/dev/null
