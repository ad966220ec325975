// segments_internal._deadline(ms): the time limit of a due refresh (pg_segments.refresh_timeout),
// armed by the engine itself so that CALL segments.refresh_due() and the background worker are
// bounded alike. PostgreSQL's statement_timeout cannot do it: it is armed once per top-level
// statement (a CALL running many refreshes, or the worker's call), not per refresh, and belongs to
// the user. Our own timeout cancels like a statement timeout (SQLSTATE 57014); the engine then
// asks whether it was ours to tell a timeout from a user's cancel.
#include "guard.h"
extern "C" {
#include "storage/latch.h"
#include "utils/timeout.h"
}

namespace {

TimeoutId deadline_timeout = MAX_TIMEOUTS;  // registered on first use in each process

// Runs in signal context: only sets flags, as PostgreSQL's own timeout handlers do.
void deadline_reached() {
    QueryCancelPending = true;
    InterruptPending = true;
    SetLatch(MyLatch);
}

}  // namespace

// _deadline(ms > 0) arms a deadline ms from now; _deadline(0) disarms. Returns whether the
// deadline armed before had been reached.
PGS_FUNCTION(pgs_deadline) {
    int32 ms = PG_GETARG_INT32(0);
    if (deadline_timeout == MAX_TIMEOUTS) deadline_timeout = RegisterTimeout(USER_TIMEOUT, deadline_reached);
    bool reached = get_timeout_indicator(deadline_timeout, true);
    if (ms > 0)
        enable_timeout_after(deadline_timeout, ms);
    else
        disable_timeout(deadline_timeout, false);
    PG_RETURN_BOOL(reached);
}
