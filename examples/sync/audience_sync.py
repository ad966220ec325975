#!/usr/bin/python3
"""Reference audience sync: keeps an ad-platform audience equal to one segment's members.

    /usr/bin/python3 examples/sync/audience_sync.py --dsn "host=... dbname=shop user=sync_job" \
        --segment "VIP customers" --state /var/lib/vip-sync [--once]

It reads the segment's joins and leaves after its cursor from segments.audience_changes (SHA-256 of
the normalized e-mail, what Meta Custom Audiences and Google Customer Match take), applies them in
order to the destination as add/remove requests, then stores the cursor. It LISTENs on
pg_segments_changes for a push after each refresh and also polls (a notification sent while it was
disconnected is lost, the poll is not). Needs only Debian's python3-psycopg2 and the standard
library; the login needs segments_reader and segments_pii (the identifiers come from e-mails).

Why it survives being killed at any point: the destination's add and remove have set semantics
(adding a present identifier or removing an absent one changes nothing), the changes are applied in
their order, and the cursor moves only after a batch was applied. A kill mid-batch therefore
replays part of a batch, which ends in the same audience: nothing lost, nothing twice.

Its own state (--state DIR/state.db, SQLite, locked against a second instance): the cursor and a ledger customer_id -> identifier it
added. A leave is removed by the identifier the join added, so it is removed even when the customer's
e-mail or facts row is gone by then (segments.audience_changes gives NULL then); an identifier two
members share is removed only when the last of them leaves.

The destination here is a local stand-in for the platform's API (DIR/audience.db: the audience and a
log of every request), so the example runs anywhere; replace Destination with the platform's client
(Meta: POST/DELETE /<audience id>/users with {"schema": "EMAIL_SHA256", "data": [...]};
Google: an offline user data job with create/remove operations).
"""
import argparse
import fcntl
import json
import os
import select
import sqlite3
import sys
import time
from collections import Counter

import psycopg2

CHANNEL = "pg_segments_changes"


def log(msg):
    print(f"[audience_sync {os.getpid()}] {msg}", file=sys.stderr, flush=True)


class State:
    """The consumer's durable state: cursor and ledger, changed together in one transaction."""

    def __init__(self, path, segment):
        self.segment = segment
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS cursor (segment text PRIMARY KEY, last_id integer NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS ledger (customer_id text PRIMARY KEY, identifier text NOT NULL)")
        row = self.db.execute("SELECT last_id FROM cursor WHERE segment = ?", (segment,)).fetchone()
        self.last_id = row[0] if row else 0
        self.ledger = dict(self.db.execute("SELECT customer_id, identifier FROM ledger"))
        self.holders = Counter(self.ledger.values())

    def save(self, last_id, added, removed):
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT OR REPLACE INTO ledger VALUES (?, ?)", added.items())
        self.db.executemany("DELETE FROM ledger WHERE customer_id = ?", [(c,) for c in removed])
        self.db.execute("INSERT OR REPLACE INTO cursor VALUES (?, ?)", (self.segment, last_id))
        self.db.execute("COMMIT")
        self.last_id = last_id


class Destination:
    """Stand-in for the ad platform: set semantics, one committed request per call, all logged."""

    def __init__(self, path, delay):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = FULL")
        # No unique key on purpose: the audience stays duplicate-free only because requests are.
        self.db.execute("CREATE TABLE IF NOT EXISTS audience (identifier text NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS requests (n integer PRIMARY KEY, action text, first_change bigint,"
                        " last_change bigint, identifiers integer, at real)")
        self.delay = delay

    def request(self, action, identifiers, first_change, last_change):
        time.sleep(self.delay)  # a network round trip
        self.db.execute("BEGIN IMMEDIATE")
        for i in identifiers:
            if action == "add":
                self.db.execute("INSERT INTO audience SELECT ? WHERE NOT EXISTS (SELECT 1 FROM audience WHERE identifier = ?)", (i, i))
            else:
                self.db.execute("DELETE FROM audience WHERE identifier = ?", (i,))
        self.db.execute("INSERT INTO requests (action, first_change, last_change, identifiers, at) VALUES (?, ?, ?, ?, ?)",
                        (action, first_change, last_change, len(identifiers), time.time()))
        self.db.execute("COMMIT")


def apply_batch(rows, state, dest, request_size):
    """rows: (id, action, customer_id, identifier) in id order. Returns the requests sent."""
    added, removed = {}, set()
    ledger, holders = state.ledger, state.holders
    requests, run = [], None  # run: [action, identifiers, first id, last id]
    for change_id, action, customer_id, identifier in rows:
        if action == "add":
            if not identifier:
                continue  # no e-mail: nothing a platform could match
            if customer_id in ledger:  # joined again with another e-mail: drop the old one first
                old = ledger.pop(customer_id)
                holders[old] -= 1
            ledger[customer_id] = identifier
            holders[identifier] += 1
            added[customer_id] = identifier
            removed.discard(customer_id)
            send = identifier
        else:
            send = ledger.pop(customer_id, None)
            if send is None:
                continue  # never added (no e-mail then)
            holders[send] -= 1
            added.pop(customer_id, None)
            removed.add(customer_id)
            if holders[send] > 0:
                continue  # another member still has this identifier
        if run and (run[0] != action or len(run[1]) >= request_size):
            requests.append(run)
            run = None
        if run is None:
            run = [action, [], change_id, change_id]
        run[1].append(send)
        run[3] = change_id
    if run:
        requests.append(run)
    for action, identifiers, first, last in requests:
        dest.request(action, identifiers, first, last)
    state.save(rows[-1][0], added, removed)
    return len(requests)


def catch_up(conn, args, state, dest):
    """Applies every change after the cursor, batch by batch. Returns the changes applied."""
    total = 0
    while True:
        with conn.cursor() as cur:
            cur.execute("SELECT id, action, customer_id, identifier FROM segments.audience_changes(%s, %s, 'sha256', %s)",
                        (args.segment, state.last_id, args.batch_size))
            rows = cur.fetchall()
        if not rows:
            return total
        n = apply_batch(rows, state, dest, args.request_size)
        total += len(rows)
        log(f"applied changes {rows[0][0]}..{rows[-1][0]} ({len(rows)} changes, {n} requests); cursor {state.last_id}")
        if len(rows) < args.batch_size:
            return total


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dsn", required=True, help="libpq connection string of the shop database")
    p.add_argument("--segment", required=True)
    p.add_argument("--state", required=True, help="directory for state.db (cursor, ledger) and audience.db")
    p.add_argument("--batch-size", type=int, default=1000, help="changes read per batch (cursor moves after each)")
    p.add_argument("--request-size", type=int, default=10000, help="identifiers per request (Meta takes 10,000)")
    p.add_argument("--poll", type=float, default=30, help="seconds between polls when no notification comes")
    p.add_argument("--request-delay", type=float, default=0, help="seconds each destination request takes (testing)")
    p.add_argument("--once", action="store_true", help="catch up, then exit")
    args = p.parse_args()

    os.makedirs(args.state, exist_ok=True)
    # One consumer per state directory: a second one (a restart racing the old process) waits.
    lock = open(os.path.join(args.state, "lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another consumer holds the state directory; waiting for it to end")
        fcntl.flock(lock, fcntl.LOCK_EX)
    state = State(os.path.join(args.state, "state.db"), args.segment)
    dest = Destination(os.path.join(args.state, "audience.db"), args.request_delay)
    log(f"start: segment {args.segment!r}, cursor {state.last_id}, {len(state.ledger)} customers in the ledger")
    conn = None
    while True:
        try:
            if conn is None:
                conn = psycopg2.connect(args.dsn, application_name="audience_sync")
                conn.autocommit = True
                conn.cursor().execute(f"LISTEN {CHANNEL}")
            catch_up(conn, args, state, dest)
            if args.once:
                return 0
            # Wait for a push about this segment, or the poll interval.
            deadline = time.monotonic() + args.poll
            while time.monotonic() < deadline:
                if select.select([conn], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    conn.poll()
                    ours = [n for n in conn.notifies if json.loads(n.payload).get("segment") == args.segment]
                    conn.notifies.clear()
                    if ours:
                        log(f"notified: run {json.loads(ours[-1].payload)['run_id']}, last change {json.loads(ours[-1].payload)['last_change_id']}")
                        break
        except psycopg2.OperationalError as e:  # server restart, network: reconnect, the cursor is safe
            log(f"database connection lost ({str(e).strip()}); reconnecting in 1 s")
            conn = None
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
