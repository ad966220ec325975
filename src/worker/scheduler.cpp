// The scheduler: one per served database. Every nap time (or at once when woken by
// segments.wake_worker) it asks the segment engine which segments are due and refreshes each in
// transactions of its own, through the engine's functions only (ENGINE_CONTRACT.md):
//   recover_runs() on start, due_segments(), start_run(id, 'worker' or 'refresh_now'), execute_run(run),
//   fail_run(run, sqlstate, message) after a failed execute_run, prune_runs() now and then.
// A failing or slow refresh rolls back alone (membership stays the last committed one), is recorded
// with fail_run in a fresh transaction, and never delays the other segments for longer than
// pg_segments.refresh_timeout.
#include "../pg/guard.h"
#include "worker.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
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
constexpr int max_due_per_pass = 10000;

SchedulerSlot* my_slot = nullptr;
MemoryContext scheduler_cxt = nullptr;

bool wake_requested(bool clear);

// The outcome of one unit of work: either rows of int8 values or an error.
struct Outcome {
    bool ok;
    int64* values;  // in scheduler_cxt
    bool* nulls;
    int count;
    char sqlstate[6];
    char message[error_text_len];
};

// Runs one SQL statement as one unit of work in its own transaction:
// StartTransactionCommand, SPI_connect, PushActiveSnapshot, the call, SPI_finish,
// PopActiveSnapshot, CommitTransactionCommand. On error the transaction is aborted and the error
// logged and returned; the scheduler carries on. `timeout_ms` > 0 arms the statement timeout
// (SPI does not, so the worker does it itself), which cancels the call with SQLSTATE 57014. Every
// call gets pg_segments.refresh_timeout, so not even a lock held by a session that stays idle in a
// transaction can stall the scheduler for longer.
void unit_of_work(const char* sql, int nargs, Oid* argtypes, Datum* args, int timeout_ms, Outcome* out) {
    out->ok = false;
    out->values = nullptr;
    out->nulls = nullptr;
    out->count = 0;
    out->sqlstate[0] = '\0';
    out->message[0] = '\0';
    MemoryContext outer = scheduler_cxt;
    MemoryContextSwitchTo(outer);

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, sql);
        if (timeout_ms > 0) enable_timeout_after(STATEMENT_TIMEOUT, timeout_ms);
        int rc = SPI_execute_with_args(sql, nargs, argtypes, args, nullptr, false, 0);
        if (timeout_ms > 0) disable_timeout(STATEMENT_TIMEOUT, false);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_segments scheduler: \"%s\" returned SPI code %d", sql, rc);
        int n = static_cast<int>(Min(SPI_processed, static_cast<uint64>(max_due_per_pass)));
        out->values = static_cast<int64*>(MemoryContextAllocZero(outer, sizeof(int64) * (n + 1)));
        out->nulls = static_cast<bool*>(MemoryContextAllocZero(outer, sizeof(bool) * (n + 1)));
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool is_int8 = desc->natts >= 1 && SPI_gettypeid(desc, 1) == INT8OID;
        for (int i = 0; i < n; i++) {
            bool isnull = true;
            Datum d = SPI_getbinval(SPI_tuptable->vals[i], desc, 1, &isnull);
            out->nulls[i] = isnull || !is_int8;
            out->values[i] = out->nulls[i] ? 0 : DatumGetInt64(d);
        }
        out->count = n;
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
        out->ok = true;
    }
    PG_CATCH();
    {
        disable_timeout(STATEMENT_TIMEOUT, false);
        HOLD_INTERRUPTS();
        MemoryContextSwitchTo(outer);
        ErrorData* edata = CopyErrorData();
        EmitErrorReport();  // the server log gets the error with its context
        FlushErrorState();
        AbortCurrentTransaction();
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

void record_error(const char* what, int64 segment, const Outcome* o) {
    LWLockAcquire(shared()->lock, LW_EXCLUSIVE);
    if (segment > 0)
        snprintf(my_slot->last_error, error_text_len, "%s of segment %lld: %s: %s", what,
                 static_cast<long long>(segment), o->sqlstate, o->message);
    else
        snprintf(my_slot->last_error, error_text_len, "%s: %s: %s", what, o->sqlstate, o->message);
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

bool extension_installed() {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    bool found = OidIsValid(get_extension_oid("pg_segments", true));
    CommitTransactionCommand();
    return found;
}

bool settings_reloaded = false;  // since the last prune: a new run_retention applies at once

void reload_if_asked() {
    if (ConfigReloadPending) {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
        settings_reloaded = true;
    }
}

// Refreshes one due segment: start_run, execute_run (bounded by refresh_timeout), and on failure
// fail_run in a fresh transaction.
void refresh_segment(int64 segment_id) {
    Outcome o;
    Oid int8_type[1] = {INT8OID};
    Datum seg_arg[1] = {Int64GetDatum(segment_id)};
    // The run's trigger says whether a refresh_now request or the schedule caused it.
    unit_of_work("SELECT segments.start_run(s.id, CASE WHEN s.refresh_requested_at IS NOT NULL "
                 "THEN 'refresh_now' ELSE 'worker' END) FROM segments.segments s WHERE s.id = $1",
                 1, int8_type, seg_arg, refresh_timeout_ms, &o);
    if (!o.ok) {
        record_error("start_run", segment_id, &o);
        return;
    }
    if (o.count == 0 || o.nulls[0]) return;  // nothing to do (segment gone, paused or busy)
    int64 run_id = o.values[0];

    set_state(state_refreshing, segment_id);
    Datum run_arg[1] = {Int64GetDatum(run_id)};
    unit_of_work("SELECT segments.execute_run($1)", 1, int8_type, run_arg, refresh_timeout_ms, &o);
    set_state(state_idle, 0);
    count_run(o.ok);
    if (o.ok) return;

    record_error("refresh", segment_id, &o);
    ereport(LOG, (errmsg("pg_segments: refresh of segment %lld failed (run %lld); recorded, will retry with back-off",
                         static_cast<long long>(segment_id), static_cast<long long>(run_id))));
    Outcome f;
    Oid fail_types[3] = {INT8OID, TEXTOID, TEXTOID};
    Datum fail_args[3] = {Int64GetDatum(run_id), CStringGetTextDatum(o.sqlstate), CStringGetTextDatum(o.message)};
    unit_of_work("SELECT segments.fail_run($1, $2, $3)", 3, fail_types, fail_args, refresh_timeout_ms, &f);
    if (!f.ok) record_error("fail_run", segment_id, &f);
}

// One pass: every due segment, most overdue first. A wake-up (refresh_now) arriving meanwhile ends
// the pass early so the next one, started at once, sees the request.
void run_pass() {
    Outcome due;
    unit_of_work("SELECT segments.due_segments()", 0, nullptr, nullptr, refresh_timeout_ms, &due);
    if (!due.ok) {
        record_error("due_segments", 0, &due);
        return;
    }
    for (int i = 0; i < due.count; i++) {
        CHECK_FOR_INTERRUPTS();
        reload_if_asked();
        if (!scheduler_enabled) return;
        if (due.nulls[i]) continue;
        refresh_segment(due.values[i]);
        if (wake_requested(false)) return;
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
                                                         TimestampTzPlusMilliseconds(pass_end, naptime_s * 1000L));
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
    TimestampTz last_prune = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        reload_if_asked();
        MemoryContextReset(scheduler_cxt);
        (void)wake_requested(true);  // this pass serves the requests made so far

        if (!scheduler_enabled) {
            set_state(state_disabled, 0);
        } else if (!extension_installed()) {
            set_state(state_no_extension, 0);
            recovered = false;
        } else {
            set_state(state_idle, 0);
            if (!recovered) {
                Outcome o;
                unit_of_work("SELECT segments.recover_runs()", 0, nullptr, nullptr, refresh_timeout_ms, &o);
                if (o.ok && o.count == 1 && !o.nulls[0] && o.values[0] > 0)
                    ereport(LOG, (errmsg("pg_segments: %lld interrupted run(s) marked failed",
                                         static_cast<long long>(o.values[0]))));
                if (!o.ok) record_error("recover_runs", 0, &o);
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
                unit_of_work("SELECT segments.recover_runs()", 0, nullptr, nullptr, refresh_timeout_ms, &o);
                if (!o.ok) record_error("recover_runs", 0, &o);
                unit_of_work("SELECT segments.prune_runs()", 0, nullptr, nullptr, refresh_timeout_ms, &o);
                if (!o.ok) record_error("prune_runs", 0, &o);
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
