#!/usr/bin/env bash
# Measures the background worker: idle CPU of the launcher and a scheduler (CPU time from
# /proc/<pid>/schedstat over IDLE_SECONDS with nothing due), and the lag from a data change to the
# membership change, with the nap time alone and with segments.refresh_now.
# Usage: PGS_PORT=54333 NAPTIME=10 IDLE_SECONDS=60 bash scripts/measure_worker.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/pg.sh
source test/lib/worker.sh
trap pgs_stop EXIT
NAPTIME=${NAPTIME:-10}
IDLE_SECONDS=${IDLE_SECONDS:-60}
ROUNDS=${ROUNDS:-5}
pgs_setup
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.naptime = $NAPTIME"
setup_db
q "INSERT INTO shop.orders (customer_id, total) SELECT 'x' || i, (i * 7919) % 1000 FROM generate_series(1, 2000) i" >/dev/null
for t in 100 300 500 700 900; do create_spenders "over_$t" "$t" '1 day'; done
wait_for 30 "scheduler idle" "SELECT state = 'idle' FROM segments.worker_status WHERE database = 'postgres'"
sleep "$NAPTIME"

# CPU time in ns (schedstat is finer than utime+stime in /proc/<pid>/stat, which counts 10 ms ticks).
ticks() { awk '{ print $1 }' "/proc/$1/schedstat"; }
hz=1000000000
sched=$(scheduler_pid postgres)
launcher=$(q "SELECT pid FROM segments.worker_status WHERE kind = 'launcher'")
s0=$(ticks "$sched"); l0=$(ticks "$launcher")
sleep "$IDLE_SECONDS"
s1=$(ticks "$sched"); l1=$(ticks "$launcher")
awk -v s=$((s1 - s0)) -v l=$((l1 - l0)) -v hz="$hz" -v d="$IDLE_SECONDS" -v n="$NAPTIME" 'BEGIN {
  printf "idle CPU over %d s (naptime %d s, 5 segments, nothing due): scheduler %.4f s (%.4f%%), launcher %.4f s (%.4f%%)\n",
    d, n, s / hz, 100 * s / hz / d, l / hz, 100 * l / hz / d }'

# Lag with the nap time: the segment is due every tick (interval 1 s); the lag runs from the
# committed data change to the end of the run that brought the customer in.
q "SELECT segments.create_segment('lag_nap', query => 'SELECT customer_id FROM shop.orders WHERE total > 900', refresh_interval => '1 second')" >/dev/null
lag_sum=0; lag_max=0
for i in $(seq 1 "$ROUNDS"); do
  sleep "$((RANDOM % NAPTIME)).$((RANDOM % 10))"   # data changes at a random point of the nap
  t0=$(q "INSERT INTO shop.orders (customer_id, total) VALUES ('nap$i', 999) RETURNING extract(epoch FROM clock_timestamp())")
  wait_for $((NAPTIME * 3 + 10)) "nap$i in lag_nap" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'lag_nap' AND customer_id = 'nap$i')"
  lag=$(q "SELECT round((extract(epoch FROM r.finished_at) - $t0)::numeric, 3) FROM segments.changes c JOIN segments.runs r ON r.id = c.run_id WHERE c.segment = 'lag_nap' AND c.customer_id = 'nap$i'")
  echo "  naptime round $i: ${lag}s"
  lag_sum=$(awk -v a="$lag_sum" -v b="$lag" 'BEGIN { print a + b }'); lag_max=$(awk -v a="$lag_max" -v b="$lag" 'BEGIN { print (b > a ? b : a) }')
done
echo "lag data change -> membership with naptime $NAPTIME s: mean $(awk -v s="$lag_sum" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }') s, max $lag_max s"
q "SELECT segments.deactivate_segment('lag_nap')" >/dev/null
sleep 2

lag_sum=0; lag_max=0
for i in $(seq 1 "$ROUNDS"); do
  t0=$(q "INSERT INTO shop.orders (customer_id, total) VALUES ('now$i', 999) RETURNING extract(epoch FROM clock_timestamp())")
  q "SELECT segments.refresh_now('over_900')" >/dev/null
  wait_for 10 "now$i in over_900" "SELECT EXISTS (SELECT 1 FROM segments.members WHERE segment = 'over_900' AND customer_id = 'now$i')"
  lag=$(q "SELECT round((extract(epoch FROM r.finished_at) - $t0)::numeric, 3) FROM segments.changes c JOIN segments.runs r ON r.id = c.run_id WHERE c.segment = 'over_900' AND c.customer_id = 'now$i'")
  echo "  refresh_now round $i: ${lag}s"
  lag_sum=$(awk -v a="$lag_sum" -v b="$lag" 'BEGIN { print a + b }'); lag_max=$(awk -v a="$lag_max" -v b="$lag" 'BEGIN { print (b > a ? b : a) }')
  sleep 0.5
done
echo "lag data change -> membership with refresh_now (naptime $NAPTIME s): mean $(awk -v s="$lag_sum" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }') s, max $lag_max s"
echo "one background refresh (2000 orders): $(q "SELECT round(avg(extract(epoch FROM finished_at - started_at))::numeric, 3) FROM segments.runs WHERE status = 'succeeded' AND trigger IN ('worker', 'refresh_now')") s on average"
