// rfm_summary's state (src/pg/btyd_rfm.cpp), shared with the order facts aggregate
// (src/pg/order_facts.cpp), which keeps one for its rfm column: the state's two forms, adding an
// order, merging, the bytes between parallel processes and the summary are defined once, there.
#pragma once
#include <cstddef>

#include "../core/btyd/summary.h"
#include "../core/fixed_decimal.h"
#include "agg_state.h"
#include "pg.h"

namespace pgs::rfm {

using core::FixedDecimal;
using core::FixedDecimalSum;

constexpr int32 kInlineDays = 6;

struct RfmState {
    int32 cutoff_day;
    int32 has_cutoff;
    double period_days;
    FixedDecimalSum total;  // spend of every order up to the cut-off
    FixedDecimalSum first;  // spend of the orders on the first purchase day
    double wide_total;      // spend beyond the fixed-scale sums (amounts wider than 128 bits)
    double wide_first;
    int32 ndays;                // distinct purchase days
    int32 capacity;             // of `days` once it left the state
    int32 first_day, last_day;  // the first and last purchase day (when ndays > 0)
    int32* days;                // nullptr while the days fit inline_days (and when fed in order)
    union {
        int32 inline_days[kInlineDays];  // not fed in order: the days, ascending
        uint64 recent;                   // fed in order: bit i: day last_day - i was a purchase day
    };
};
static_assert(sizeof(RfmState) == 128, "AllocSet's 128-byte chunks");

// An order's spend: exact when it fits the fixed-scale sums, else as a double.
struct Spend {
    bool wide;
    FixedDecimal fixed;
    double approx;
};

// A zeroed state in `cxt` (no orders, no cut-off yet).
RfmState* new_state(MemoryContext cxt);
// The cut-off day and period; ereports 22023 when a group's rows disagree.
void set_cutoff(RfmState* st, int32 day, double period_days);
// Adds an order of local day `day` (<= the cut-off day) and spend `s` (the unordered form).
void add_order(MemoryContext cxt, RfmState* st, int32 day, const Spend& s);
// st += other; `ordered`: both are in the fed-in-order form.
void combine(MemoryContext cxt, RfmState* st, const RfmState* other, bool ordered);
std::size_t serialized_size(const RfmState* st, bool ordered);
void write(ByteWriter& w, const RfmState* st, bool ordered);
// Reads what write() wrote into a zeroed state, the days' chunk in `cxt`; ereports XX001 on corrupt bytes.
void read(ByteReader& r, RfmState* st, MemoryContext cxt, bool ordered);
// The summary of a state with at least one purchase day.
core::btyd::RfmSummary summarize(const RfmState* st, bool ordered);

}  // namespace pgs::rfm
