#!/usr/bin/env bash
# The demo end to end at a tiny size (1,000 orders), twice (it must be idempotent): the background
# worker refreshes every ready-made segment, the overview is printed and not empty; then the CDNOW
# data set once; then it stops.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGS_DEMO_PRIVATE=1 PGS_DEMO_TCP=0 PGS_DEMO_PORT=${PGS_PORT:-54329}
export PGS_DEMO_DIR
PGS_DEMO_DIR=$(mktemp -d /tmp/pg_segments_demo.XXXXXX)
cleanup() { bash demo/run clean >/dev/null 2>&1 || true; rm -rf "$PGS_DEMO_DIR"; }
trap cleanup EXIT
fail() { echo "demo_smoke: FAIL: $*" >&2; exit 1; }

rm -rf bi/dist
for round in 1 2; do
  # The dashboard in the first round only (test/harness/bi_dashboard.sh checks its charts in Chromium).
  dashboard=$((round == 1 ? 1 : 0))
  out=$(PGS_DEMO_DASHBOARD=$dashboard bash demo/run 1000 100 2>&1) || { echo "$out"; fail "demo/run failed (round $round)"; }
  grep -q '== Segment overview' <<<"$out" || { echo "$out"; fail "no overview printed (round $round)"; }
  grep -q 'Done in' <<<"$out" || fail "no closing instructions (round $round)"
  if [ "$dashboard" = 1 ]; then
    grep -q 'dashboard: .*bi/dist/index.html' <<<"$out" || { echo "$out"; fail "no dashboard address printed"; }
    built=$(cat bi/dist/_file/data/overview.*.json 2>/dev/null | grep -o '"segment":' | wc -l)
    [ -s bi/dist/index.html ] && [ "$built" -ge 25 ] || fail "the demo's dashboard has $built segments"
  fi
done

BIN=$(ls -d "$PGS_DEMO_DIR"/pg/usr/lib/postgresql/*/bin 2>/dev/null | head -1 || true)
[ -n "$BIN" ] || BIN=$(ls -d "${PGS_ROOT:-/nonexistent}"/usr/lib/postgresql/*/bin | head -1)
q() { "$BIN/psql" -X -At -h "$PGS_DEMO_DIR/sock" -p "$PGS_DEMO_PORT" -U postgres -d shop -c "$1"; }

segments=$(q "SELECT count(*) FROM segments.segments")
[ "$segments" -ge 25 ] || fail "expected the four packs' segments, found $segments"
unrefreshed=$(q "SELECT count(*) FROM segments.segments WHERE last_refresh_at IS NULL OR status <> 'active'")
[ "$unrefreshed" = 0 ] || fail "$unrefreshed segments not refreshed or not active"
by_worker=$(q "SELECT count(DISTINCT segment_id) FROM segments.runs WHERE trigger = 'worker' AND status = 'succeeded'")
[ "$by_worker" -ge 1 ] || fail "no segment was refreshed by the background worker"
nonempty=$(q "SELECT count(*) FROM segments.overview WHERE customers > 0")
[ "$nonempty" -ge 10 ] || fail "only $nonempty segments have members"
orders=$(q "SELECT count(*) FROM shop.orders WHERE status <> 'refund'")
[ "$orders" -ge 800 ] && [ "$orders" -le 1200 ] || fail "asked for 1000 orders, got $orders"
# Each customer's revenue in the facts equals the plain sum over the mapped orders.
diff=$(q "SELECT count(*) FROM segments.customers c FULL JOIN (SELECT customer_id::text, sum(total) s
          FROM shop.orders WHERE status IN ('paid', 'refund') GROUP BY 1) o USING (customer_id)
          WHERE coalesce(c.revenue, 0) <> coalesce(o.s, 0)")
[ "$diff" = 0 ] || fail "$diff customers' revenue differs from their orders"

# The second data set: the real CDNOW purchases, with the BG/NBD calibration/holdout table.
out=$(PGS_DEMO_DASHBOARD=0 bash demo/run cdnow 2>&1) || { echo "$out"; fail "demo/run cdnow failed"; }
grep -q 'BG/NBD fitted on the first 39 weeks' <<<"$out" || { echo "$out"; fail "cdnow: no BG/NBD section"; }
cd_orders=$("$BIN/psql" -X -At -h "$PGS_DEMO_DIR/sock" -p "$PGS_DEMO_PORT" -U postgres -d cdnow \
  -c "SELECT count(*) || '/' || count(DISTINCT customer_id) FROM cdnow.orders")
[ "$cd_orders" = 69659/23570 ] || fail "cdnow: expected 69659 orders of 23570 customers, got $cd_orders"
cd_lost=$("$BIN/psql" -X -At -h "$PGS_DEMO_DIR/sock" -p "$PGS_DEMO_PORT" -U postgres -d cdnow \
  -c "SELECT customers FROM segments.overview WHERE segment = 'lifecycle_lost'")
[ "${cd_lost:-0}" -gt 0 ] || fail "cdnow: lifecycle_lost is empty"

bash demo/run stop | grep -q stopped || fail "demo/run stop did not stop the server"
echo "demo_smoke: ok (dashboard built with $built segments, $segments segments, $nonempty with members, $orders orders; cdnow $cd_orders)"
