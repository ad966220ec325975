// The launcher: started by the postmaster when pg_segments is in shared_preload_libraries, it keeps
// one scheduler (a dynamic background worker) running in every database it should serve, starts
// schedulers for new databases, stops those no longer wanted and restarts those that died.
#include "../pg/guard.h"
#include "../pg/palloc_vector.h"
#include "worker.h"

extern "C" {
#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

namespace pgs::worker {

namespace {

constexpr int launcher_restart_s = 5;

void register_launcher() {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = launcher_restart_s;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_segments");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgs_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pg_segments launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "pg_segments launcher");
    RegisterBackgroundWorker(&worker);
}

// ---- launcher process -------------------------------------------------------------------------

struct Database {
    Oid oid;
    char name[NAMEDATALEN];
    bool allowconn;
    bool istemplate;
    bool invalid;
};

// Launcher-local bookkeeping per shared slot.
struct Managed {
    BackgroundWorkerHandle* handle;  // in TopMemoryContext; null for adopted or never started
    TimestampTz last_start;
};
Managed* managed = nullptr;
bool warned_slots = false;

// All rows of pg_database (a shared catalog, readable without connecting to a database), in the
// caller's memory context.
pgs::PallocVector<Database> scan_databases() {
    MemoryContext outer = CurrentMemoryContext;
    pgs::PallocVector<Database> dbs{};
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tup;
    while ((tup = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        Form_pg_database db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tup));
        Database d;
        d.oid = db->oid;
        strlcpy(d.name, NameStr(db->datname), NAMEDATALEN);
        d.allowconn = db->datallowconn;
        d.istemplate = db->datistemplate;
        d.invalid = database_is_invalid_form(db);
        dbs.push_back(outer, d);
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    MemoryContextSwitchTo(outer);
    return dbs;
}

bool wanted(const Database* d) {
    return settings::scheduler_enabled && d->allowconn && !d->istemplate && !d->invalid &&
           database_listed(settings::databases, d->name);
}

// A clear word in the log when pg_segments.databases names a database that cannot be served, so a
// typo does not silently leave segments stale.
void check_listed_names(const Database* dbs, int n) {
    if (settings::databases == nullptr || settings::databases[0] == '\0') return;
    char* raw = pstrdup(settings::databases);
    List* names = NIL;
    if (SplitGUCList(raw, ',', &names)) {
        ListCell* lc;
        foreach (lc, names) {
            const char* name = static_cast<const char*>(lfirst(lc));
            if (strcmp(name, "*") == 0) continue;
            const Database* found = nullptr;
            for (int i = 0; i < n; i++)
                if (strcmp(dbs[i].name, name) == 0) found = &dbs[i];
            if (found == nullptr)
                ereport(WARNING, (errcode(ERRCODE_UNDEFINED_DATABASE),
                                  errmsg("pg_segments.databases names database \"%s\", which does not exist", name),
                                  errhint("Segments there will not refresh automatically; fix the setting and "
                                          "reload the configuration.")));
            else if (!found->allowconn || found->istemplate)
                ereport(WARNING,
                        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                         errmsg("pg_segments.databases names database \"%s\", which the worker cannot serve", name),
                         errdetail("The database is a template or does not allow connections.")));
        }
    }
    list_free(names);
    pfree(raw);
}

bool slot_alive(int i) {
    SchedulerSlot* slot = &shared()->slots[i];
    if (slot->pid != 0) return true;
    if (managed[i].handle == nullptr) return false;
    pid_t pid;
    if (GetBackgroundWorkerPid(managed[i].handle, &pid) != BGWH_STOPPED) return true;
    pfree(managed[i].handle);
    managed[i].handle = nullptr;
    return false;
}

void stop_slot(int i) {
    SchedulerSlot* slot = &shared()->slots[i];
    if (managed[i].handle != nullptr)
        TerminateBackgroundWorker(managed[i].handle);
    else if (slot->pid != 0)
        kill(slot->pid, SIGTERM);  // adopted from a previous launcher
}

bool start_scheduler(int i, const Database* d) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;  // the launcher restarts it
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_segments");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgs_scheduler_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pg_segments scheduler %s", d->name);
    snprintf(worker.bgw_type, BGW_MAXLEN, "pg_segments scheduler");
    worker.bgw_main_arg = ObjectIdGetDatum(d->oid);
    worker.bgw_notify_pid = MyProcPid;
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    BackgroundWorkerHandle* handle = nullptr;
    bool ok = RegisterDynamicBackgroundWorker(&worker, &handle);
    MemoryContextSwitchTo(old);
    if (!ok) return false;
    managed[i].handle = handle;
    return true;
}

// Brings the running schedulers in line with the databases to serve. Returns the milliseconds
// until something may need doing (a paused or throttled restart), or the nap time.
long reconcile(const Database* dbs, int n) {
    SharedState* st = shared();
    TimestampTz now = GetCurrentTimestamp();
    long next_ms = settings::naptime_s * 1000L;
    // A scheduler that died is restarted at most once per nap time, so a database where it cannot
    // start does not make the launcher spin.
    long restart_gap_ms = Min(settings::naptime_s, 60) * 1000L;
    bool out_of_slots = false, out_of_workers = false;

    LWLockAcquire(st->lock, LW_EXCLUSIVE);
    for (int i = 0; i < st->nslots; i++) {
        SchedulerSlot* slot = &st->slots[i];
        if (!OidIsValid(slot->dboid)) continue;
        bool keep = false;
        for (int j = 0; j < n; j++)
            if (dbs[j].oid == slot->dboid && wanted(&dbs[j])) keep = true;
        if (keep) continue;
        if (slot_alive(i))
            stop_slot(i);
        else
            memset(slot, 0, sizeof *slot);  // database gone or no longer served
    }
    for (int j = 0; j < n; j++) {
        const Database* d = &dbs[j];
        if (!wanted(d)) continue;
        int i = -1;
        for (int k = 0; k < st->nslots && i < 0; k++)
            if (st->slots[k].dboid == d->oid) i = k;
        for (int k = 0; k < st->nslots && i < 0; k++)
            if (!OidIsValid(st->slots[k].dboid) && !slot_alive(k)) {
                i = k;
                memset(&st->slots[k], 0, sizeof st->slots[k]);
                st->slots[k].dboid = d->oid;
                managed[k].last_start = 0;
            }
        if (i < 0) {
            out_of_slots = true;
            continue;
        }
        SchedulerSlot* slot = &st->slots[i];
        strlcpy(slot->dbname, d->name, NAMEDATALEN);  // follows renames
        if (slot_alive(i)) continue;
        if (now < slot->paused_until) {
            next_ms = Min(next_ms, TimestampDifferenceMilliseconds(now, slot->paused_until) + 10);
            continue;
        }
        TimestampTz allowed = TimestampTzPlusMilliseconds(managed[i].last_start, restart_gap_ms);
        if (managed[i].last_start != 0 && now < allowed) {
            next_ms = Min(next_ms, TimestampDifferenceMilliseconds(now, allowed) + 10);
            continue;
        }
        if (start_scheduler(i, d))
            managed[i].last_start = now;
        else
            out_of_workers = true;
    }
    LWLockRelease(st->lock);

    if ((out_of_slots || out_of_workers) && !warned_slots) {
        ereport(WARNING, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                          errmsg("pg_segments cannot start a scheduler for every database it should serve"),
                          errhint("Raise max_worker_processes, or list fewer databases in pg_segments.databases.")));
        warned_slots = true;
    } else if (!out_of_slots && !out_of_workers) {
        warned_slots = false;
    }
    return Max(next_ms, 10L);
}

void launcher_detach(int, Datum) {
    SharedState* st = shared();
    LWLockAcquire(st->lock, LW_EXCLUSIVE);
    if (st->launcher_pid == MyProcPid) {
        st->launcher_pid = 0;
        st->launcher_latch = nullptr;
    }
    LWLockRelease(st->lock);
}

}  // namespace

void register_when_preloaded() {
    if (!process_shared_preload_libraries_in_progress) return;
    install_shmem_hooks();
    install_utility_hook();
    register_launcher();
}

}  // namespace pgs::worker

using namespace pgs::worker;

// The body of the background worker; C-style, holds no C++ object with a destructor.
static void launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);  // shared catalogs only
    pgstat_report_appname("pg_segments launcher");

    SharedState* st = shared();
    if (st == nullptr) ereport(FATAL, (errmsg("pg_segments launcher started without shared memory")));
    managed = static_cast<Managed*>(MemoryContextAllocZero(TopMemoryContext, st->nslots * sizeof(Managed)));
    LWLockAcquire(st->lock, LW_EXCLUSIVE);
    st->launcher_pid = MyProcPid;
    st->launcher_latch = MyLatch;
    st->launcher_started_at = GetCurrentTimestamp();
    LWLockRelease(st->lock);
    before_shmem_exit(launcher_detach, 0);
    ereport(LOG, (errmsg("pg_segments launcher started")));

    MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "pg_segments launcher", ALLOCSET_DEFAULT_SIZES);
    bool check_names = true;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            check_names = true;
        }
        MemoryContextReset(loop_cxt);
        MemoryContextSwitchTo(loop_cxt);
        const pgs::PallocVector<Database> dbs = scan_databases();
        const int n = static_cast<int>(dbs.size());
        if (check_names) {
            check_listed_names(dbs.data(), n);
            check_names = false;
        }
        long timeout = reconcile(dbs.data(), n);
        MemoryContextSwitchTo(TopMemoryContext);
        pgstat_report_activity(STATE_IDLE, nullptr);
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

// Background-worker entry: a thin shim through the guard (docs/cpp-boundary.md).
void pgs_launcher_main(Datum arg) {
    pgs::guarded([&]() { launcher_main(arg); });
}
