// value_band: Ometria's customer value bands. As a window function the reference is the mean of the
// non-NULL values in the row's partition; as a scalar it is given.
#include <cmath>
#include <limits>

#include "../core/value_band.h"
#include "convert.h"
#include "enum_label.h"
#include "guard.h"

extern "C" {
#include "windowapi.h"
}

namespace {

const char* const kLabels[] = {"low", "medium", "high", "very_high"};

// Per partition: the mean of the non-NULL values and every row's value as a double (NaN for NULL),
// converted once in the first pass (numeric -> double goes through text in PostgreSQL 15, so
// converting each row a second time for its own band cost a third of the function's time).
struct PartitionMean {
    bool computed;
    int64 count;
    double mean;
    double* values;  // in the partition's memory, indexed by row position
    int64 rows;
};

Datum band_datum(FunctionCallInfo fcinfo, double value, double reference) {
    return pgs::enum_label_datum(fcinfo, kLabels, 4, static_cast<int>(pgs::core::value_band(value, reference)));
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
        MemoryContext partcxt = GetMemoryChunkContext(pm);
        int64 capacity = 64;
        pm->values = static_cast<double*>(MemoryContextAllocHuge(partcxt, capacity * sizeof(double)));
        double sum = 0;
        for (int64 row = 0;; ++row) {
            bool isnull, isout;
            Datum v = WinGetFuncArgInPartition(win, 0, row, WINDOW_SEEK_HEAD, false, &isnull, &isout);
            if (isout) break;
            if (row == capacity) {
                capacity *= 2;
                pm->values = static_cast<double*>(repalloc_huge(pm->values, capacity * sizeof(double)));
            }
            pm->rows = row + 1;
            if (isnull) {
                pm->values[row] = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            const double value = pgs::finite_numeric_to_double(v, "value_band value");
            pm->values[row] = value;
            sum += value;
            ++pm->count;
        }
        pm->mean = pm->count > 0 ? sum / static_cast<double>(pm->count) : 0;
        pm->computed = true;
    }
    const int64 pos = WinGetCurrentPosition(win);
    const double value = pos < pm->rows ? pm->values[pos] : std::numeric_limits<double>::quiet_NaN();
    if (std::isnan(value)) PG_RETURN_NULL();
    if (!(pm->mean > 0))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("value_band: the mean value of the window partition is %g, not positive", pm->mean),
                        errhint("Bands compare each value with the partition's mean; exclude zero or negative "
                                "values (refund-only customers) from the window.")));
    return band_datum(fcinfo, value, pm->mean);
}
