// The scheduler: one per served database. Every nap time (or at once when woken by
// segments.wake_worker) it runs one pass of the engine's refresh-due policy
// (sql/engine/refresh.sql, the same pass CALL segments.refresh_due() runs), through engine
// functions only, each call in a transaction of its own:
//   segments.recover_runs() on start and every 10 minutes, then
//   segments_internal._next_due_runs('worker', pass start) -> a started run per due segment (the
//     batch), or nothing: the pass is over
//   segments_internal._run_due(runs) -> the runs as they ended, refreshed in one transaction (a
//     failure or timeout is recorded there)
//   segments.prune_runs() every 10 minutes.
// What is due, in which order, the trigger, the time limit and the back-off are the engine's; the
// scheduler only decides when to look (nap time, wake-ups) and whether it may (scheduler_enabled).
#include "../pg/guard.h"
#include "worker.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/indexing.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace pgs::worker {
namespace {

constexpr long prune_every_ms = 10 * 60 * 1000L;  // recover_runs + prune_runs

SchedulerSlot* my_slot = nullptr;
MemoryContext scheduler_cxt = nullptr;

bool wake_requested(bool clear);

// The first row of one call's answer: up to four columns, as text (NULL: empty and null).
constexpr int max_columns = 4;
struct Outcome {
    bool ok;     // the call committed
    bool found;  // it returned a row
    bool null[max_columns];
    char value[max_columns][error_text_len];
    char* first;  // column 1 in full when longer than value[0] holds (palloc'd in scheduler_cxt), else nullptr
    char sqlstate[6];  // when !ok
    char message[error_text_len];
};

int64 int_value(const Outcome& o, int col) { return o.null[col] ? 0 : strtoll(o.value[col], nullptr, 10); }

// Runs one SQL statement as one unit of work in its own transaction:
// StartTransactionCommand, SPI_connect, PushActiveSnapshot, the call, SPI_finish,
// PopActiveSnapshot, CommitTransactionCommand. On error the transaction is aborted and the error
// logged and returned; the scheduler carries on. Time limits are the engine's (a due refresh is
// bounded by pg_segments.refresh_timeout; the policy never waits for a locked segment row).
void unit_of_work(const char* sql, int nargs, Oid* argtypes, Datum* args, Outcome* out) {
    memset(out, 0, sizeof *out);
    MemoryContext outer = scheduler_cxt;
    MemoryContextSwitchTo(outer);

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, sql);
        int rc = SPI_execute_with_args(sql, nargs, argtypes, args, nullptr, false, 1);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_segments scheduler: \"%s\" returned SPI code %d", sql, rc);
        out->found = SPI_processed > 0;
        TupleDesc desc = SPI_tuptable->tupdesc;
        for (int c = 0; c < max_columns; c++) {
            char* v = out->found && c < desc->natts ? SPI_getvalue(SPI_tuptable->vals[0], desc, c + 1) : nullptr;
            out->null[c] = v == nullptr;
            if (v) strlcpy(out->value[c], v, error_text_len);
            if (v && c == 0 && strlen(v) >= error_text_len) out->first = MemoryContextStrdup(outer, v);
        }
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
        out->ok = true;
    }
    PG_CATCH();
    {
        HOLD_INTERRUPTS();
        MemoryContextSwitchTo(outer);
        ErrorData* edata = CopyErrorData();
        EmitErrorReport();  // the server log gets the error with its context
        FlushErrorState();
        AbortCurrentTransaction();
        disable_all_timeouts(false);  // a deadline the engine armed must not cancel a later call
        QueryCancelPending = false;
        RESUME_INTERRUPTS();
        strlcpy(out->sqlstate, unpack_sql_state(edata->sqlerrcode), sizeof out->sqlstate);
        strlcpy(out->message, edata->message ? edata->message : "unknown error", sizeof out->message);
        FreeErrorData(edata);
        out->ok = false;
    }
    PG_END_TRY();
    MemoryContextSwitchTo(outer);
    pgstat_report_activity(STATE_IDLE, nullptr);
}

void set_state(int s, int64 segment) {
    LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
    my_slot->state = s;
    my_slot->current_segment = segment;
    LWLockRelease(shared()->lock);
}

void record_error(const char* what, int64 segment, const char* sqlstate, const char* message) {
    LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
    if (segment > 0)
        snprintf(my_slot->last_error, error_text_len, "%s of segment %lld: %s: %s", what,
                 static_cast<long long>(segment), sqlstate, message);
    else
        snprintf(my_slot->last_error, error_text_len, "%s: %s: %s", what, sqlstate, message);
    my_slot->last_error_at = GetCurrentTimestamp();
    LWLockRelease(shared()->lock);
}

void count_run(bool ok) {
    LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
    if (ok)
        my_slot->runs_succeeded++;
    else
        my_slot->runs_failed++;
    LWLockRelease(shared()->lock);
}

// The installed version of the extension in this database (into `version`), or false when it is
// not installed. A catalog lookup, no query.
bool extension_installed(char* version, size_t len) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    version[0] = '\0';
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("pg_segments"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup = systable_getnext(scan);
    bool found = HeapTupleIsValid(tup);
    if (found) {
        bool isnull = true;
        Datum v = heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        if (!isnull) text_to_cstring_buffer(DatumGetTextPP(v), version, len);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return found;
}

// The library serves only the SQL of its own version: the policy's functions differ between
// releases. After a package upgrade (new library, old SQL) it says so once per version and waits
// for ALTER EXTENSION pg_segments UPDATE.
char mismatch_reported[NAMEDATALEN] = "";

bool version_matches(const char* sql_version) {
    if (strcmp(sql_version, PGS_EXTVERSION) == 0) {
        mismatch_reported[0] = '\0';
        return true;
    }
    if (strcmp(mismatch_reported, sql_version) != 0) {
        ereport(WARNING, (errmsg("pg_segments: database \"%s\" has pg_segments %s but the library is %s; "
                                 "scheduled refresh waits for the update",
                                 my_slot->dbname, sql_version, PGS_EXTVERSION),
                          errhint("Run ALTER EXTENSION pg_segments UPDATE in database \"%s\".", my_slot->dbname)));
        strlcpy(mismatch_reported, sql_version, sizeof mismatch_reported);
    }
    return false;
}

bool settings_reloaded = false;  // since the last prune: a new run_retention applies at once

void reload_if_asked() {
    if (ConfigReloadPending) {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
        settings_reloaded = true;
    }
}

// One pass of the engine's refresh-due policy (sql/engine/refresh.sql): the batch of due runs, then
// its execution, until nothing is due. A refresh_now request made meanwhile is in the next batch.
void run_pass() {
    Datum pass_started[1] = {TimestampTzGetDatum(GetCurrentTimestamp())};
    Oid pass_type[1] = {TIMESTAMPTZOID};
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        reload_if_asked();
        if (!pgs::settings::scheduler_enabled) return;
        Outcome next;  // the batch: its run ids (an array, as text), size, first segment
        unit_of_work("SELECT array_agg(r.id ORDER BY r.id)::text, count(*), min(r.segment_id) "
                     "FROM segments_internal._next_due_runs('worker', $1) r",
                     1, pass_type, pass_started, &next);
        if (!next.ok) {
            record_error("_next_due_runs", 0, next.sqlstate, next.message);
            return;
        }
        int64 batch = int_value(next, 1);
        if (batch == 0) return;
        int64 segment_id = int_value(next, 2);

        set_state(state_refreshing, segment_id);
        Datum runs_arg[1] = {CStringGetTextDatum(next.first ? next.first : next.value[0])};
        Oid text_type[1] = {TEXTOID};
        Outcome done;  // failed runs, and the first failure's segment, SQLSTATE and message
        unit_of_work("SELECT count(*) FILTER (WHERE r.status = 'failed'), min(r.segment_id) FILTER (WHERE r.status = 'failed'), "
                     "(array_agg(r.sqlstate ORDER BY r.segment_id) FILTER (WHERE r.status = 'failed'))[1], "
                     "(array_agg(r.message ORDER BY r.segment_id) FILTER (WHERE r.status = 'failed'))[1] "
                     "FROM segments_internal._run_due($1::bigint[]) r",
                     1, text_type, runs_arg, &done);
        set_state(state_idle, 0);
        if (!done.ok) {
            // Cancelled from outside (pg_cancel_backend): not the policy's own failure, which
            // _run_due records itself. Record it the same way on each run still running, in a
            // fresh transaction.
            for (int64 i = 0; i < batch; i++) count_run(false);
            record_error("refresh", segment_id, done.sqlstate, done.message);
            Oid fail_types[3] = {TEXTOID, TEXTOID, TEXTOID};
            Datum fail_args[3] = {runs_arg[0], CStringGetTextDatum(done.sqlstate), CStringGetTextDatum(done.message)};
            Outcome f;
            unit_of_work("SELECT count(*) FROM segments.runs x, LATERAL segments_internal._fail_run(x.id, $2, $3) f "
                         "WHERE x.id = ANY ($1::bigint[]) AND x.status = 'running'",
                         3, fail_types, fail_args, &f);
            if (!f.ok) record_error("_fail_run", segment_id, f.sqlstate, f.message);
            for (int i = 1; i < 3; i++) pfree(DatumGetPointer(fail_args[i]));
        }
        pfree(DatumGetPointer(runs_arg[0]));
        if (next.first) pfree(next.first);
        if (!done.ok) continue;
        int64 failed = int_value(done, 0);
        for (int64 i = 0; i < batch; i++) count_run(i >= failed);
        if (failed > 0) {
            record_error("refresh", int_value(done, 1), done.null[2] ? "" : done.value[2], done.null[3] ? "" : done.value[3]);
            ereport(LOG, (errmsg("pg_segments: %lld of %lld due segment refreshes failed; recorded, will retry with back-off",
                                 static_cast<long long>(failed), static_cast<long long>(batch))));
        }
    }
}

// Whether segments.wake_worker asked for a pass since the current one started (the flag is cleared
// when a pass starts). The latch is also set by PostgreSQL for its own reasons (sinval catch-up,
// SIGHUP), which must not turn into extra passes.
bool wake_requested(bool clear) {
    LWLockAcquire(shared()->lock, clear ? LW_EXCLUSIVE : LW_SHARED);
    bool asked = my_slot->wake_requested;
    if (clear) my_slot->wake_requested = false;
    LWLockRelease(shared()->lock);
    return asked;
}

// Sleeps until the next tick (nap time after the end of the last pass) or a wake-up request.
void nap(TimestampTz pass_end) {
    for (;;) {
        long remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
                                                         TimestampTzPlusMilliseconds(pass_end, settings::naptime_s * 1000L));
        if (remaining <= 0) return;
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, remaining, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        reload_if_asked();  // a new nap time applies to the nap in progress
        if (rc & WL_TIMEOUT) return;
        if (wake_requested(false)) return;
    }
}

void scheduler_detach(int, Datum) {
    LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
    if (my_slot->pid == MyProcPid) {
        my_slot->pid = 0;
        my_slot->latch = nullptr;
        my_slot->current_segment = 0;
    }
    LWLockRelease(shared()->lock);
    wake_launcher();
}

// Takes this database's slot (the launcher reserved it); false if another scheduler holds it.
bool claim_slot(Oid dboid) {
    SharedState* st = shared();
    bool ok = false;
    LWLockAcquire(st->lock, LW_EXCLUSIVE);
    for (int i = 0; i < st->nslots; i++) {
        SchedulerSlot* slot = &st->slots[i];
        if (slot->dboid != dboid) continue;
        if (slot->pid == 0) {
            slot->pid = MyProcPid;
            slot->latch = MyLatch;
            slot->state = state_starting;
            slot->started_at = GetCurrentTimestamp();
            my_slot = slot;
            ok = true;
        }
        break;
    }
    LWLockRelease(st->lock);
    return ok;
}

}  // namespace
}  // namespace pgs::worker

using namespace pgs::worker;

// The body of the background worker; C-style, holds no C++ object with a destructor.
static void scheduler_main(Datum arg) {
    Oid dboid = DatumGetObjectId(arg);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);  // cancels a refresh in progress, then exits
    BackgroundWorkerUnblockSignals();
    if (shared() == nullptr) ereport(FATAL, (errmsg("pg_segments scheduler started without shared memory")));
    BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
    pgstat_report_appname("pg_segments scheduler");
    if (!claim_slot(dboid)) {
        ereport(LOG, (errmsg("pg_segments scheduler for database %u not needed, exiting", dboid)));
        proc_exit(0);
    }
    before_shmem_exit(scheduler_detach, 0);
    scheduler_cxt = AllocSetContextCreate(TopMemoryContext, "pg_segments scheduler", ALLOCSET_DEFAULT_SIZES);
    ereport(LOG, (errmsg("pg_segments scheduler started in database \"%s\"", my_slot->dbname)));

    bool recovered = false;  // recover_runs done since the extension was (re)created
    char sql_version[NAMEDATALEN];
    TimestampTz last_prune = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        reload_if_asked();
        MemoryContextReset(scheduler_cxt);
        (void)wake_requested(true);  // this pass serves the requests made so far

        if (!pgs::settings::scheduler_enabled) {
            set_state(state_disabled, 0);
        } else if (!extension_installed(sql_version, sizeof sql_version)) {
            set_state(state_no_extension, 0);
            recovered = false;
        } else if (!version_matches(sql_version)) {
            set_state(state_needs_update, 0);
            recovered = false;
        } else {
            set_state(state_idle, 0);
            if (!recovered) {
                Outcome o;
                unit_of_work("SELECT segments.recover_runs()", 0, nullptr, nullptr, &o);
                if (o.ok && int_value(o, 0) > 0)
                    ereport(LOG, (errmsg("pg_segments: %lld interrupted run(s) marked failed",
                                         static_cast<long long>(int_value(o, 0)))));
                if (!o.ok) record_error("recover_runs", 0, o.sqlstate, o.message);
                recovered = o.ok;
                last_prune = 0;
            }
            if (recovered) run_pass();
            TimestampTz now = GetCurrentTimestamp();
            if (recovered &&
                (last_prune == 0 || settings_reloaded ||
                 TimestampDifferenceExceeds(last_prune, now, prune_every_ms))) {
                // Runs left running by a session that died without the server crashing (a cron
                // job's CALL segments.refresh_due() killed mid-run) would keep their segment from
                // ever being due again: recover them too, then prune.
                Outcome o;
                unit_of_work("SELECT segments.recover_runs()", 0, nullptr, nullptr, &o);
                if (!o.ok) record_error("recover_runs", 0, o.sqlstate, o.message);
                unit_of_work("SELECT segments.prune_runs()", 0, nullptr, nullptr, &o);
                if (!o.ok) record_error("prune_runs", 0, o.sqlstate, o.message);
                last_prune = now;
                settings_reloaded = false;
            }
        }
        LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
        my_slot->last_tick = GetCurrentTimestamp();
        LWLockRelease(shared()->lock);
        pgstat_report_stat(true);
        pgstat_report_activity(STATE_IDLE, nullptr);
        if (!wake_requested(false)) nap(GetCurrentTimestamp());
    }
}

// Background-worker entry: a thin shim through the guard (docs/cpp-boundary.md).
void pgs_scheduler_main(Datum arg) {
    pgs::guarded([&]() { scheduler_main(arg); });
}
