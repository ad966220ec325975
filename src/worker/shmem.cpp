// Shared memory of the background worker and of progress reports, and the DROP DATABASE guard.
#include "../pg/guard.h"
#include "worker.h"

extern "C" {
#include <signal.h>

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

namespace pgs::worker {
namespace {

constexpr const char* tranche_name = "pg_segments";
// How long a database that is being dropped keeps its scheduler stopped; long enough for DROP
// DATABASE to find no other connection (it waits up to 5 s for them).
constexpr int pause_seconds = 15;

SharedState* state = nullptr;
bool is_preloaded = false;
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;
ProcessUtility_hook_type prev_process_utility = nullptr;

int slot_count() { return max_worker_processes; }

Size shared_size() {
    return add_size(offsetof(SharedState, slots), mul_size(sizeof(SchedulerSlot), slot_count()));
}

extern "C" void pgs_shmem_request(void) {
    if (prev_shmem_request_hook) prev_shmem_request_hook();
    RequestAddinShmemSpace(shared_size());
    RequestAddinShmemSpace(progress_shmem_size());
    RequestNamedLWLockTranche(tranche_name, 1);
}

extern "C" void pgs_shmem_startup(void) {
    if (prev_shmem_startup_hook) prev_shmem_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    state = static_cast<SharedState*>(ShmemInitStruct("pg_segments worker", shared_size(), &found));
    if (!found) {
        memset(state, 0, shared_size());
        state->lock = &(GetNamedLWLockTranche(tranche_name))->lock;
        state->nslots = slot_count();
    }
    void* progress = ShmemInitStruct("pg_segments progress", progress_shmem_size(), &found);
    progress_shmem_init(progress, found);
    LWLockRelease(AddinShmemInitLock);
}

// Stops the scheduler of `dboid` and keeps the launcher from restarting it for a while.
void pause_database(Oid dboid) {
    if (state == nullptr || !OidIsValid(dboid)) return;
    pid_t pid = 0;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    for (int i = 0; i < state->nslots; i++) {
        SchedulerSlot* slot = &state->slots[i];
        if (slot->dboid != dboid) continue;
        slot->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), pause_seconds * 1000);
        pid = slot->pid;
    }
    LWLockRelease(state->lock);
    if (pid != 0) {
        // The scheduler exits at its next interrupt check, cancelling a refresh in progress (the
        // refresh rolls back; its run is marked failed if the database survives).
        kill(pid, SIGTERM);
    }
}

Oid database_oid(const char* name) { return name ? get_database_oid(name, true) : InvalidOid; }

// The value of option `name` in a CREATE/ALTER DATABASE option list, or null.
const char* option_value(List* options, const char* name) {
    ListCell* lc;
    foreach (lc, options) {
        DefElem* opt = static_cast<DefElem*>(lfirst(lc));
        if (strcmp(opt->defname, name) == 0 && opt->arg != nullptr) return defGetString(opt);
    }
    return nullptr;
}

void process_utility(PlannedStmt* pstmt, const char* queryString, bool readOnlyTree,
                                    ProcessUtilityContext context, ParamListInfo params,
                                    QueryEnvironment* queryEnv, DestReceiver* dest, QueryCompletion* qc) {
    Node* node = pstmt->utilityStmt;
    // Commands that fail while another session is connected to the database they name.
    if (IsA(node, DropdbStmt)) {
        pause_database(database_oid(castNode(DropdbStmt, node)->dbname));
    } else if (IsA(node, RenameStmt) && castNode(RenameStmt, node)->renameType == OBJECT_DATABASE) {
        pause_database(database_oid(castNode(RenameStmt, node)->subname));
    } else if (IsA(node, CreatedbStmt)) {
        pause_database(database_oid(option_value(castNode(CreatedbStmt, node)->options, "template")));
    } else if (IsA(node, DropStmt) && castNode(DropStmt, node)->removeType == OBJECT_EXTENSION) {
        // DROP EXTENSION pg_segments: a refresh in progress holds locks on the extension's tables
        // and would deadlock with the drop; stop this database's scheduler first.
        ListCell* lc;
        foreach (lc, castNode(DropStmt, node)->objects) {
            if (strcmp(strVal(lfirst(lc)), "pg_segments") == 0) pause_database(MyDatabaseId);
        }
    } else if (IsA(node, AlterDatabaseStmt)) {
        AlterDatabaseStmt* stmt = castNode(AlterDatabaseStmt, node);
        if (option_value(stmt->options, "tablespace") != nullptr) pause_database(database_oid(stmt->dbname));
    }
    if (prev_process_utility)
        prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
    else
        standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

// Hook entry: a thin shim through the guard.
extern "C" void pgs_process_utility(PlannedStmt* pstmt, const char* queryString, bool readOnlyTree,
                                    ProcessUtilityContext context, ParamListInfo params,
                                    QueryEnvironment* queryEnv, DestReceiver* dest, QueryCompletion* qc) {
    pgs::guarded([&]() {
        process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
    });
}

}  // namespace

SharedState* shared() { return state; }
bool preloaded() { return is_preloaded; }

void install_shmem_hooks() {
    is_preloaded = true;
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = pgs_shmem_request;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = pgs_shmem_startup;
}

void install_utility_hook() {
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = pgs_process_utility;
}

void wake_launcher() {
    if (state == nullptr) return;
    LWLockAcquire(state->lock, LW_SHARED);
    Latch* latch = state->launcher_pid != 0 ? state->launcher_latch : nullptr;
    if (latch) SetLatch(latch);
    LWLockRelease(state->lock);
}

const char* state_name(int s) {
    switch (s) {
        case state_starting: return "starting";
        case state_idle: return "idle";
        case state_refreshing: return "refreshing";
        case state_no_extension: return "no extension";
        case state_disabled: return "disabled";
        case state_needs_update: return "needs update";
    }
    return "unknown";
}

bool database_listed(const char* setting, const char* dbname) {
    if (setting == nullptr || setting[0] == '\0') return true;
    char* raw = pstrdup(setting);
    List* names = NIL;
    bool listed = false;
    if (SplitGUCList(raw, ',', &names)) {
        ListCell* lc;
        foreach (lc, names) {
            const char* name = static_cast<const char*>(lfirst(lc));
            if (strcmp(name, "*") == 0 || strcmp(name, dbname) == 0) listed = true;
        }
    }
    list_free(names);
    pfree(raw);
    return listed;
}

}  // namespace pgs::worker
