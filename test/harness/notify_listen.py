# Run by test/harness/audience_sync.sh: LISTENs on pg_segments_changes during the stream of refreshes,
# then (on NOTIFY harness_done) checks what arrived against segments.history and segments.changes:
# exactly one notification per committed refresh of the segment that changed its membership, none for
# one that changed nothing or rolled back, the payload's fields equal to the run's, in commit order.
import json
import select
import sys

import psycopg2

dsn, segment, ready_file = sys.argv[1], sys.argv[2], sys.argv[3]
conn = psycopg2.connect(dsn)
conn.autocommit = True
cur = conn.cursor()
cur.execute("LISTEN pg_segments_changes; LISTEN harness_done")
cur.execute("SELECT coalesce(max(id), 0) FROM segments.runs")
first_run = cur.fetchone()[0]
open(ready_file, "w").write("ready\n")
got = []
done = False
while not done:
    if select.select([conn], [], [], 120)[0] == []:
        sys.exit("notify_listen: no harness_done within 120 s")
    conn.poll()
    for n in conn.notifies:
        if n.channel == "harness_done":
            done = True
        else:
            got.append(json.loads(n.payload))
    conn.notifies.clear()

cur.execute("""SELECT h.run_id, h.joined, h."left", s.id,
                      (SELECT max(c.id) FROM segments.changes c WHERE c.run_id = h.run_id AND c.segment_id = s.id)
               FROM segments.history h JOIN segments.segments s ON s.id = h.segment_id
               WHERE s.name = %s AND h.run_id > %s ORDER BY h.run_id""", (segment, first_run))
runs = cur.fetchall()
changed = [r for r in runs if r[1] + r[2] > 0]
unchanged = len(runs) - len(changed)
mine = [g for g in got if g["segment"] == segment]
errors = []
if len(mine) != len(changed):
    errors.append(f"{len(mine)} notifications for {len(changed)} refreshes that changed the membership")
for g, (run_id, joined, left, sid, last_change) in zip(mine, changed):
    want = {"segment": segment, "segment_id": sid, "run_id": run_id, "joined": joined, "left": left,
            "last_change_id": last_change}
    if g != want:
        errors.append(f"payload {g} != {want}")
ids = [g["last_change_id"] for g in mine]
if ids != sorted(ids):
    errors.append("notifications not in commit order")
others = len(got) - len(mine)
if others:
    errors.append(f"{others} notifications for other segments (none refreshed)")
if errors:
    sys.exit("notify_listen: FAIL: " + "; ".join(errors[:5]))
print(f"ok - NOTIFY pg_segments_changes: {len(mine)} notifications for {len(changed)} committed refreshes that changed"
      f" membership, 0 for {unchanged} that changed nothing and for the rolled-back ones; every payload equals its run")
