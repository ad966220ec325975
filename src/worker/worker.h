// The background worker (docs/worker.md): a launcher started by the postmaster, one scheduler per
// served database, and the shared memory through which backends reach them (wake-ups, status).
//
// Everything here is C-style on purpose: the launcher and the schedulers live inside PostgreSQL's
// error handling (ereport/longjmp), so they hold no C++ object with a destructor anywhere.
#pragma once
#include "../pg/pg.h"
#include "../pg/settings.h"
extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
}

namespace pgs::worker {

// What a scheduler is doing, as segments.worker_status shows it.
enum SchedulerState : int {
    state_starting = 0,
    state_idle = 1,          // waiting for the next tick
    state_refreshing = 2,    // inside a refresh
    state_no_extension = 3,  // database without pg_segments: re-checks every nap time
    state_disabled = 4,      // pg_segments.scheduler_enabled = off
    state_needs_update = 5,  // the database's pg_segments is another version than the library
};
const char* state_name(int state);

constexpr int error_text_len = 256;

// One per database the launcher serves. Protected by SharedState::lock; pid/latch are written by
// the scheduler itself, dboid/dbname/paused_until by the launcher and by DROP DATABASE.
struct SchedulerSlot {
    Oid dboid;  // InvalidOid: free
    char dbname[NAMEDATALEN];
    pid_t pid;  // 0 when no scheduler runs
    Latch* latch;
    bool wake_requested;  // set by segments.wake_worker, cleared by the scheduler
    int state;
    int64 current_segment;  // segment being refreshed (state_refreshing)
    TimestampTz started_at;
    TimestampTz last_tick;
    TimestampTz last_error_at;
    TimestampTz paused_until;  // no restart before (set when the database is being dropped)
    int64 runs_succeeded;
    int64 runs_failed;
    char last_error[error_text_len];
};

struct SharedState {
    LWLock* lock;
    pid_t launcher_pid;
    Latch* launcher_latch;
    TimestampTz launcher_started_at;
    int nslots;
    SchedulerSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

// Null unless the library was loaded by shared_preload_libraries (then set up in every process).
SharedState* shared();
bool preloaded();

// From _PG_init: when loaded by shared_preload_libraries, the shared memory, the utility hook and
// the launcher; nothing otherwise.
void register_when_preloaded();
// Shared memory hooks; called from register_when_preloaded.
void install_shmem_hooks();
// ProcessUtility hook: a database that is being dropped (or renamed, or used as a template) must
// have no scheduler connected, so its scheduler is stopped and not restarted for a while.
void install_utility_hook();
// Progress reports (progress.cpp): one slot per backend, in the same shared memory.
Size progress_shmem_size();
void progress_shmem_init(void* area, bool found);
// Wakes the launcher (rescan databases) if it runs.
void wake_launcher();

// Parses pg_segments.databases; true when `dbname` is served. An empty setting or '*' serves every
// database that allows connections.
bool database_listed(const char* setting, const char* dbname);

}  // namespace pgs::worker

extern "C" {
PGDLLEXPORT void pgs_launcher_main(Datum arg);
PGDLLEXPORT void pgs_scheduler_main(Datum arg);
}
