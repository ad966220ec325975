#!/usr/bin/env bash
# The benchmark at a tiny size, once per query: proves bench/run works and that each aggregate
# agrees with its plain-SQL equivalent on generated data (the figures themselves mean nothing here).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(PGS_BENCH_REPS=1 PGS_BENCH_ENGINE_REPS=1 bash bench/run 2000 2>&1) || { echo "$out"; echo "bench_smoke: FAIL: bench/run failed" >&2; exit 1; }
for m in 'count(*) GROUP BY customer' clv order_latency order_latency_ordered lifecycle_stage lifecycle_stage_ordered rfm_summary \
         rfm_summary_ordered value_band; do
  line=$(awk -F'|' -v m="$m" '{k = $1; gsub(/^ +| +$/, "", k)} k == m' <<<"$out")
  [ -n "$line" ] || { echo "$out"; echo "bench_smoke: FAIL: no row for $m" >&2; exit 1; }
  if [ "$m" != 'count(*) GROUP BY customer' ]; then
    differing=$(awk -F'|' '{gsub(/ /, "", $NF); print $NF}' <<<"$line")
    [ "$differing" = 0 ] || { echo "$out"; echo "bench_smoke: FAIL: $m differs from plain SQL on $differing rows" >&2; exit 1; }
  fi
done
for m in bgnbd_fit paretonbd_fit; do
  grep -q "^ $m over [0-9]* customers ([0-9]* distinct summaries) " <<<"$out" || { echo "$out"; echo "bench_smoke: FAIL: no row for $m" >&2; exit 1; }
done
grep -q '^settings: ' <<<"$out" || { echo "bench_smoke: FAIL: settings not printed" >&2; exit 1; }
echo "bench_smoke: ok"
