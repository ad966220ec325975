// Two window functions over (PARTITION BY customer ORDER BY ordered_at), one pass each:
// - lifecycle_stage_before(ordered_at): the life-cycle stage a customer was in just before each
//   order, judged at that order's time from the orders in the earlier rows of the partition -- the
//   same answer as lifecycle_stage(earlier orders, ordered_at) (customer events: won back, saved);
// - lifecycle_lost_at(ordered_at): the moment after which the customer counts as lost if this is
//   their last order (new vs returning vs lapsed: "became lost during the period").
//
// The earlier order times are kept in a PallocVector in the partition's memory context (reset by the
// executor at each new partition); each call appends the rows it has not seen yet.
#include <cmath>
#include <optional>

#include "../core/errors.h"
#include "../core/lapse.h"
#include "../core/lifecycle.h"
#include "../core/time_units.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"
#include "palloc_vector.h"
#include "settings.h"

extern "C" {
#include "utils/timestamp.h"
#include "windowapi.h"
}

namespace {

// In the partition's local memory, zeroed by the executor: nothing seen, no times.
struct Earlier {
    int64 seen;  // rows of the partition already appended (or skipped as NULL)
    pgs::PallocVector<TimestampTz> times;  // ascending, in the partition context
};

// Stage (index into core::kLifecycleLabels) of orders `times[0..count)` judged at as_of, or -1 for
// none: lifecycle_stage's classifier on the same times. Calls no PostgreSQL.
int stage_at(const TimestampTz* times, int64 count, TimestampTz as_of, const pgs::core::LifecycleRule& rule) {
    auto stage = pgs::core::classify_micros(times, static_cast<std::size_t>(count), as_of, rule);
    return stage ? static_cast<int>(*stage) : -1;
}

// Days of silence after the last of times[0..count) (count >= 1) beyond which the customer is lost.
double lost_after(const TimestampTz* times, int64 count, const pgs::core::LifecycleRule& rule) {
    return pgs::core::lost_after_days(pgs::core::GapMoments::of_sorted(times, static_cast<std::size_t>(count)), rule);
}

void append(Earlier* st, TimestampTz at) {
    if (!st->times.empty() && at < st->times.back())
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("lifecycle_stage_before needs the rows of each partition in ordered_at order"),
                        errhint("Write OVER (PARTITION BY customer_id ORDER BY ordered_at).")));
    st->times.push_back(GetMemoryChunkContext(st), at);
}

}  // namespace

// Appends the partition's rows [st->seen, upto) that were not seen yet.
void catch_up(WindowObject win, Earlier* st, int64 upto, const char* what) {
    for (; st->seen < upto; ++st->seen) {
        bool isnull, isout;
        Datum v = WinGetFuncArgInPartition(win, 0, static_cast<int>(st->seen), WINDOW_SEEK_HEAD, false, &isnull,
                                           &isout);
        if (isout) break;
        if (!isnull) append(st, pgs::finite_timestamp(v, what));
    }
}

PGS_FUNCTION(pgs_lifecycle_stage_before) {
    WindowObject win = PG_WINDOW_OBJECT();
    auto* st = static_cast<Earlier*>(WinGetPartitionLocalMemory(win, sizeof(Earlier)));
    catch_up(win, st, WinGetCurrentPosition(win), "lifecycle_stage_before ordered_at");
    bool isnull;
    Datum v = WinGetFuncArgCurrent(win, 0, &isnull);
    if (isnull) PG_RETURN_NULL();
    const TimestampTz as_of = pgs::finite_timestamp(v, "lifecycle_stage_before ordered_at");
    if (!st->times.empty() && as_of < st->times.back())
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("lifecycle_stage_before needs the rows of each partition in ordered_at order"),
                        errhint("Write OVER (PARTITION BY customer_id ORDER BY ordered_at).")));
    const int stage = stage_at(st->times.data(), st->times.size(), as_of, pgs::settings::lifecycle_rule());
    if (stage < 0) PG_RETURN_NULL();
    return pgs::enum_label_datum(fcinfo, pgs::core::kLifecycleLabels, stage);
}

PGS_FUNCTION(pgs_lifecycle_lost_at) {
    WindowObject win = PG_WINDOW_OBJECT();
    auto* st = static_cast<Earlier*>(WinGetPartitionLocalMemory(win, sizeof(Earlier)));
    bool isnull;
    WinGetFuncArgCurrent(win, 0, &isnull);
    catch_up(win, st, WinGetCurrentPosition(win) + 1, "lifecycle_lost_at ordered_at");
    if (isnull) PG_RETURN_NULL();
    const TimestampTz last = st->times.back();
    const double micros = lost_after(st->times.data(), st->times.size(), pgs::settings::lifecycle_rule()) *
                          pgs::core::kMicrosPerDay;
    // Beyond any representable date (absurd settings): never lost in practice.
    if (!(micros < static_cast<double>(END_TIMESTAMP - last))) PG_RETURN_TIMESTAMPTZ(DT_NOEND);
    PG_RETURN_TIMESTAMPTZ(last + static_cast<int64>(std::llround(micros)));
}
