// Progress of long work, visible from other sessions while it runs (the segments.progress view):
// one slot per backend in shared memory, written only by its own backend (under the slot's spinlock)
// and cleared when its top-level transaction ends. A procedure that commits between steps
// (CALL segments.refresh_due()) reports again after each commit, with the time it started.
// Set up with the worker's shared memory, so only when pg_segments is preloaded; otherwise reports
// are dropped and the view is empty.
#include "../pg/guard.h"
#include "worker.h"

extern "C" {
#include "access/xact.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pgs::worker {
namespace {

constexpr int text_len = 64;

struct ProgressSlot {
    slock_t mutex;
    pid_t pid;  // 0: free
    Oid dboid;
    char command[text_len];
    char phase[text_len];
    char segment[NAMEDATALEN];
    int32 done;
    int32 total;
    TimestampTz started_at;
    TimestampTz updated_at;
};

ProgressSlot* slots = nullptr;
int nslots = 0;
bool callback_registered = false;
bool reported = false;  // this backend's slot holds a report

ProgressSlot* own_slot() {
    if (slots == nullptr || MyBackendId == InvalidBackendId || MyBackendId > nslots) return nullptr;
    return &slots[MyBackendId - 1];
}

void copy_text(char* dst, size_t len, text* src) {
    if (src == nullptr) {
        dst[0] = '\0';
        return;
    }
    size_t n = Min(static_cast<size_t>(VARSIZE_ANY_EXHDR(src)), len - 1);
    // Cut at a character boundary (the texts are the engine's own: a command, a phase, a name).
    n = pg_mbcliplen(VARDATA_ANY(src), static_cast<int>(n), static_cast<int>(n));
    memcpy(dst, VARDATA_ANY(src), n);
    dst[n] = '\0';
}

void clear_own() {
    ProgressSlot* s = own_slot();
    if (s == nullptr || !reported) return;
    SpinLockAcquire(&s->mutex);
    s->pid = 0;
    SpinLockRelease(&s->mutex);
    reported = false;
}

void at_xact_end(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        clear_own();
}

}  // namespace

Size progress_shmem_size() { return mul_size(sizeof(ProgressSlot), MaxBackends); }

void progress_shmem_init(void* area, bool found) {
    slots = static_cast<ProgressSlot*>(area);
    nslots = MaxBackends;
    if (found) return;
    for (int i = 0; i < nslots; i++) {
        SpinLockInit(&slots[i].mutex);
        slots[i].pid = 0;
    }
}

}  // namespace pgs::worker

using namespace pgs::worker;

// segments_internal.progress_report(command, phase, segment, done, total, started_at): replaces this
// backend's report. segment may be NULL; done/total 0 when not counted.
PGS_FUNCTION(pgs_progress_report) {
    ProgressSlot* s = own_slot();
    if (s == nullptr || PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(5)) PG_RETURN_VOID();
    if (!callback_registered) {
        RegisterXactCallback(at_xact_end, nullptr);
        callback_registered = true;
    }
    ProgressSlot next;
    next.pid = MyProcPid;
    next.dboid = MyDatabaseId;
    copy_text(next.command, sizeof next.command, PG_GETARG_TEXT_PP(0));
    copy_text(next.phase, sizeof next.phase, PG_GETARG_TEXT_PP(1));
    copy_text(next.segment, sizeof next.segment, PG_ARGISNULL(2) ? nullptr : PG_GETARG_TEXT_PP(2));
    next.done = PG_ARGISNULL(3) ? 0 : Max(PG_GETARG_INT32(3), 0);
    next.total = PG_ARGISNULL(4) ? 0 : Max(PG_GETARG_INT32(4), 0);
    next.started_at = PG_GETARG_TIMESTAMPTZ(5);
    next.updated_at = GetCurrentTimestamp();
    SpinLockAcquire(&s->mutex);
    s->pid = next.pid;
    s->dboid = next.dboid;
    memcpy(s->command, next.command, sizeof next.command);
    memcpy(s->phase, next.phase, sizeof next.phase);
    memcpy(s->segment, next.segment, sizeof next.segment);
    s->done = next.done;
    s->total = next.total;
    s->started_at = next.started_at;
    s->updated_at = next.updated_at;
    SpinLockRelease(&s->mutex);
    reported = true;
    PG_RETURN_VOID();
}

// The rows of segments.progress: this database's reports.
PGS_FUNCTION(pgs_progress_rows) {
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    InitMaterializedSRF(fcinfo, 0);
    for (int i = 0; slots != nullptr && i < nslots; i++) {
        ProgressSlot copy;
        SpinLockAcquire(&slots[i].mutex);
        memcpy(&copy, &slots[i], sizeof copy);
        SpinLockRelease(&slots[i].mutex);
        if (copy.pid == 0 || copy.dboid != MyDatabaseId) continue;
        constexpr int ncols = 8;
        Datum values[ncols];
        bool nulls[ncols] = {};
        values[0] = Int32GetDatum(copy.pid);
        values[1] = CStringGetTextDatum(copy.command);
        values[2] = CStringGetTextDatum(copy.phase);
        values[3] = CStringGetTextDatum(copy.segment);
        nulls[3] = copy.segment[0] == '\0';
        values[4] = Int32GetDatum(copy.done);
        values[5] = Int32GetDatum(copy.total);
        nulls[4] = nulls[5] = copy.total == 0;
        values[6] = TimestampTzGetDatum(copy.started_at);
        values[7] = TimestampTzGetDatum(copy.updated_at);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}
