// SQL-callable functions of the worker area: segments.wake_worker(), segments.worker_preloaded(),
// segments.worker_serves(name), and the rows of the segments.worker_status view.
#include "../pg/guard.h"
#include "worker.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_authid_d.h"
#include "utils/acl.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pgs::worker {
namespace {

bool wake_pending = false;
bool callback_registered = false;

// The latch of this database's scheduler, under the lock; null when none runs.
Latch* scheduler_latch(SharedState* st, Oid dboid) {
    for (int i = 0; i < st->nslots; i++)
        if (st->slots[i].dboid == dboid && st->slots[i].pid != 0) return st->slots[i].latch;
    return nullptr;
}

bool signal_scheduler(Oid dboid) {
    SharedState* st = shared();
    if (st == nullptr) return false;
    LWLockAcquire(st->lock, LW_EXCLUSIVE);
    Latch* latch = nullptr;
    for (int i = 0; i < st->nslots; i++)
        if (st->slots[i].dboid == dboid && st->slots[i].pid != 0) {
            st->slots[i].wake_requested = true;
            latch = st->slots[i].latch;
        }
    if (latch) SetLatch(latch);
    LWLockRelease(st->lock);
    return latch != nullptr;
}

// The wake-up is sent when the requesting transaction commits: a scheduler woken earlier would
// not yet see the request (refresh_now's flag) and would go back to sleep for a whole nap time.
void at_commit(XactEvent event, void*) {
    if (!wake_pending) return;
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
        wake_pending = false;
        signal_scheduler(MyDatabaseId);
    } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
        wake_pending = false;
    }
}

}  // namespace
}  // namespace pgs::worker

using namespace pgs::worker;

PGS_FUNCTION(pgs_wake_worker) {
    SharedState* st = shared();
    if (st == nullptr) PG_RETURN_BOOL(false);
    LWLockAcquire(st->lock, LW_SHARED);
    bool running = scheduler_latch(st, MyDatabaseId) != nullptr;
    LWLockRelease(st->lock);
    if (!running) {
        wake_launcher();  // perhaps this database was just created: let the launcher look
        PG_RETURN_BOOL(false);
    }
    if (!callback_registered) {
        RegisterXactCallback(at_commit, nullptr);
        callback_registered = true;
    }
    wake_pending = true;
    PG_RETURN_BOOL(true);
}

PGS_FUNCTION(pgs_worker_preloaded) { PG_RETURN_BOOL(preloaded() && shared() != nullptr); }

PGS_FUNCTION(pgs_worker_serves) {
    Name dbname = PG_GETARG_NAME(0);
    if (!preloaded() || shared() == nullptr || !pgs::settings::scheduler_enabled) PG_RETURN_BOOL(false);
    if (!OidIsValid(get_database_oid(NameStr(*dbname), true))) PG_RETURN_BOOL(false);
    PG_RETURN_BOOL(database_listed(pgs::settings::databases, NameStr(*dbname)));
}

// One row for the launcher and one per served database (a copy taken under the lock).
PGS_FUNCTION(pgs_worker_status_rows) {
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    InitMaterializedSRF(fcinfo, 0);
    SharedState* st = shared();
    if (st == nullptr) return static_cast<Datum>(0);

    Size size = offsetof(SharedState, slots) + sizeof(SchedulerSlot) * st->nslots;
    SharedState* copy = static_cast<SharedState*>(palloc(size));
    LWLockAcquire(st->lock, LW_SHARED);
    memcpy(copy, st, size);
    LWLockRelease(st->lock);

    // Error messages can quote data of segments the caller may not see: like the query text in
    // pg_stat_activity, they are shown to members of pg_read_all_stats (and superusers) only.
    bool see_errors = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
    constexpr int ncols = 12;
    if (copy->launcher_pid != 0) {
        Datum values[ncols] = {};
        bool nulls[ncols];
        for (bool& n : nulls) n = true;
        values[0] = CStringGetTextDatum("launcher");
        nulls[0] = false;
        values[3] = Int32GetDatum(copy->launcher_pid);
        nulls[3] = false;
        values[4] = CStringGetTextDatum("running");
        nulls[4] = false;
        values[5] = TimestampTzGetDatum(copy->launcher_started_at);
        nulls[5] = false;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    for (int i = 0; i < copy->nslots; i++) {
        SchedulerSlot* s = &copy->slots[i];
        if (!OidIsValid(s->dboid)) continue;
        Datum values[ncols] = {};
        bool nulls[ncols] = {};
        values[0] = CStringGetTextDatum("scheduler");
        values[1] = CStringGetTextDatum(s->dbname);
        values[2] = ObjectIdGetDatum(s->dboid);
        values[3] = Int32GetDatum(s->pid);
        nulls[3] = s->pid == 0;
        values[4] = CStringGetTextDatum(s->pid == 0 ? "stopped" : state_name(s->state));
        values[5] = TimestampTzGetDatum(s->started_at);
        nulls[5] = s->started_at == 0;
        values[6] = TimestampTzGetDatum(s->last_tick);
        nulls[6] = s->last_tick == 0;
        values[7] = Int64GetDatum(s->runs_succeeded);
        values[8] = Int64GetDatum(s->runs_failed);
        values[9] = CStringGetTextDatum(s->last_error);
        nulls[9] = s->last_error[0] == '\0' || !see_errors;
        values[10] = TimestampTzGetDatum(s->last_error_at);
        nulls[10] = s->last_error_at == 0;
        values[11] = Int64GetDatum(s->current_segment);
        nulls[11] = s->pid == 0 || s->state != state_refreshing;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    pfree(copy);
    return static_cast<Datum>(0);
}
