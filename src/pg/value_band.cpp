// value_band: Ometria's customer value bands. As a window function the reference is the mean of the
// non-NULL values in the row's partition (one pass over the partition for the mean, then each row
// converts its own value again: the conversion is cheap, so nothing per row is kept beside the
// window's own buffer); as a scalar it is given.
#include <cmath>

#include "../core/value_band.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"

extern "C" {
#include "windowapi.h"
}

namespace {

// Per partition: the mean of the non-NULL values, from a first pass over the partition.
struct PartitionMean {
    bool computed;
    int64 count;
    double mean;
};

// finite_numeric_to_double in a scratch context reset each time: the first pass reads a whole
// partition inside one call, and the cast of a value wider than the fixed-scale reading allocates.
double value_of(Datum v, MemoryContext scratch) {
    MemoryContext old = MemoryContextSwitchTo(scratch);
    const double d = pgs::finite_numeric_to_double(v, "value_band value");
    MemoryContextSwitchTo(old);
    MemoryContextReset(scratch);
    return d;
}

Datum band_datum(FunctionCallInfo fcinfo, double value, double reference) {
    return pgs::enum_label_datum(fcinfo, pgs::core::kValueBandLabels, pgs::core::value_band(value, reference));
}

}  // namespace

PGS_FUNCTION(pgs_value_band) {
    double value = pgs::finite_numeric_to_double(PG_GETARG_DATUM(0), "value_band value");
    double reference = pgs::finite_numeric_to_double(PG_GETARG_DATUM(1), "value_band reference");
    return band_datum(fcinfo, value, reference);
}

PGS_FUNCTION(pgs_value_band_window) {
    WindowObject win = PG_WINDOW_OBJECT();
    auto* pm = static_cast<PartitionMean*>(WinGetPartitionLocalMemory(win, sizeof(PartitionMean)));
    if (!pm->computed) {
        MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "value_band", ALLOCSET_SMALL_SIZES);
        double sum = 0;
        for (int64 row = 0;; ++row) {
            bool isnull, isout;
            Datum v = WinGetFuncArgInPartition(win, 0, row, WINDOW_SEEK_HEAD, false, &isnull, &isout);
            if (isout) break;
            if (isnull) continue;
            sum += value_of(v, scratch);
            ++pm->count;
        }
        MemoryContextDelete(scratch);
        pm->mean = pm->count > 0 ? sum / static_cast<double>(pm->count) : 0;
        pm->computed = true;
    }
    bool isnull;
    Datum v = WinGetFuncArgCurrent(win, 0, &isnull);
    if (isnull) PG_RETURN_NULL();
    if (!(pm->mean > 0))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("value_band: the mean value of the window partition is %g, not positive", pm->mean),
                        errhint("Bands compare each value with the partition's mean; exclude zero or negative "
                                "values (refund-only customers) from the window.")));
    return band_datum(fcinfo, pgs::finite_numeric_to_double(v, "value_band value"), pm->mean);
}
