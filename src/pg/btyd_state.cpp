// Mergeable BTYD fit states, for fitting one model over several databases (docs/scale-out.md):
// bgnbd_fit_state(x, t_x, T) -> bytea on each shard, bgnbd_fit_merge(state) -> bgnbd_model on the
// coordinator (likewise MBG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma). A state is the fit aggregates' own count map
// of distinct summaries, written by their serialize function behind a small header; merging
// deserializes and combines with their own functions, so a merged fit sees exactly the count map
// a fit over all rows builds. States arrive from other servers, so every byte is checked first:
// hostile input gets a class-22 error, never a crash or a fit over garbage.
#include "../core/btyd/models.h"
#include "../core/btyd/summary.h"

#include <cmath>
#include <cstring>

#include "agg_state.h"
#include "guard.h"

extern "C" {
// The fit aggregates' state functions (btyd_fit.cpp).
Datum pgs_btyd_fit_serialize(PG_FUNCTION_ARGS);
Datum pgs_btyd_fit_deserialize(PG_FUNCTION_ARGS);
Datum pgs_btyd_fit_combine(PG_FUNCTION_ARGS);
}

namespace cb = pgs::core::btyd;

namespace {

// Header: magic, format version, what the keys are. (x, t_x, T) summaries serve BG/NBD, MBG/NBD and
// Pareto/NBD alike; (x, t_x, n) whole periods serve BG/BB; (x, monetary) spends serve Gamma-Gamma.
// Kind 3 (BG/BB) came with format 2 unchanged: a reader that does not know it refuses it.
constexpr char kMagic[4] = {'P', 'G', 'S', 'F'};
constexpr uint8 kVersion = 2;  // 2: the time unit after the rows (issue 13)
enum Kind : uint8 { kSummaries = 1, kSpends = 2, kPeriods = 3 };
constexpr std::size_t kHeader = 8;
constexpr std::size_t kRow = 3 * sizeof(double) + sizeof(int64);
// More customers than this in one count (a trillion) is corruption, and merged counts cannot overflow.
constexpr int64 kMaxCount = int64{1} << 40;

const char* kind_name(uint8 kind) {
    return kind == kSummaries ? "(frequency, recency, T) summaries"
           : kind == kPeriods ? "BG/BB (frequency, recency, periods) summaries"
                              : "(frequency, monetary) spends";
}

// Calls one of the fit aggregates' state functions with this call's aggregate context.
Datum call_fit_function(PGFunction fn, FunctionCallInfo outer, Datum a, bool a_null, Datum b, bool b_null) {
    LOCAL_FCINFO(inner, 2);
    InitFunctionCallInfoData(*inner, outer->flinfo, 2, InvalidOid, outer->context, nullptr);
    inner->args[0].value = a;
    inner->args[0].isnull = a_null;
    inner->args[1].value = b;
    inner->args[1].isnull = b_null;
    Datum result = fn(inner);
    if (inner->isnull) return PointerGetDatum(nullptr);
    return result;
}

// FINALFUNC of the *_fit_state aggregates: header + the serialized count map (0 rows if none).
Datum state_final(FunctionCallInfo fcinfo, uint8 kind) {
    std::size_t payload_len = sizeof(int64) + sizeof(double);
    const char* payload = nullptr;
    if (!PG_ARGISNULL(0)) {
        Datum ser = call_fit_function(pgs_btyd_fit_serialize, fcinfo, PG_GETARG_DATUM(0), false, 0, true);
        const bytea* b = reinterpret_cast<const bytea*>(DatumGetPointer(ser));
        payload = VARDATA_ANY(b);
        payload_len = VARSIZE_ANY_EXHDR(b);
    }
    pgs::ByteWriter w(kHeader + payload_len);
    std::memcpy(w.cursor, kMagic, sizeof kMagic);
    w.cursor[4] = static_cast<char>(kVersion);
    w.cursor[5] = static_cast<char>(kind);
    w.cursor[6] = w.cursor[7] = 0;
    w.cursor += kHeader;
    if (payload) {
        std::memcpy(w.cursor, payload, payload_len);
    } else {
        w.put(int64{0});
        w.put(0.0);  // no unit yet
    }
    PG_RETURN_BYTEA_P(w.out);
}

[[noreturn]] void bad_state(const char* fname, const char* why) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), errmsg("%s: invalid fit state: %s", fname, why),
                    errhint("Pass what a *_fit_state() aggregate of this pg_segments version returned, unchanged.")));
}

// Checks a state end to end (header, size, every key and count) before the fit's deserializer sees
// it. Returns the number of rows.
int64 check_state(const bytea* in, uint8 kind, const char* fname) {
    const char* p = VARDATA_ANY(in);
    const std::size_t len = VARSIZE_ANY_EXHDR(in);
    if (len < kHeader + sizeof(int64) || std::memcmp(p, kMagic, sizeof kMagic) != 0)
        bad_state(fname, "not a pg_segments fit state");
    if (static_cast<uint8>(p[4]) != kVersion) bad_state(fname, "unknown format version");
    const auto got = static_cast<uint8>(p[5]);
    if (got != kSummaries && got != kSpends && got != kPeriods) bad_state(fname, "unknown kind");
    if (got != kind)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: the state holds %s, this fit needs %s", fname, kind_name(got), kind_name(kind)),
                        errhint("Merge bgnbd_fit_state, mbgnbd_fit_state or paretonbd_fit_state into bgnbd_fit_merge, "
                                "mbgnbd_fit_merge or paretonbd_fit_merge, bgbb_fit_state into bgbb_fit_merge, and "
                                "gammagamma_fit_state into gammagamma_fit_merge.")));
    int64 n;
    std::memcpy(&n, p + kHeader, sizeof n);
    // The count map's rows, then the summaries' period length in days (btyd_fit.cpp: 0, 1 or 7).
    if (len < kHeader + sizeof(int64) + sizeof(double)) bad_state(fname, "its length does not match its row count");
    const std::size_t rows_len = len - kHeader - sizeof(int64) - sizeof(double);
    if (n < 0 || rows_len % kRow != 0 || static_cast<std::size_t>(n) != rows_len / kRow)
        bad_state(fname, "its length does not match its row count");
    double period_days;
    std::memcpy(&period_days, p + len - sizeof(double), sizeof period_days);
    if (!(period_days == 0 || period_days == 1 || period_days == 7)) bad_state(fname, "unknown time unit");
    const char* row = p + kHeader + sizeof(int64);
    for (int64 i = 0; i < n; ++i, row += kRow) {
        double k[3];
        int64 count;
        std::memcpy(k, row, sizeof k);
        std::memcpy(&count, row + sizeof k, sizeof count);
        if (count <= 0 || count > kMaxCount) bad_state(fname, "a count is out of range");
        if (kind == kSummaries) {
            cb::check_summary(k[0], k[1], k[2]);  // throws invalid_argument (22023) with a hint
        } else if (kind == kPeriods) {
            cb::check_periods(k[0], k[1], k[2]);  // likewise
        } else {
            if (k[2] != 0 || !(k[0] > 0)) bad_state(fname, "a spend row has no repeat purchases");
            cb::check_monetary(k[0], k[1]);
        }
    }
    return n;
}

// SFUNC of the *_fit_merge aggregates: state := combine(state, deserialize(checked payload)).
Datum merge_accum(FunctionCallInfo fcinfo, uint8 kind, const char* fname) {
    pgs::aggregate_context(fcinfo, fname);
    const bool have = !PG_ARGISNULL(0);
    if (PG_ARGISNULL(1)) {
        if (!have) PG_RETURN_NULL();
        PG_RETURN_DATUM(PG_GETARG_DATUM(0));
    }
    const bytea* in = PG_GETARG_BYTEA_PP(1);
    check_state(in, kind, fname);
    // The payload as a bytea of its own, for the fit's deserializer.
    const std::size_t payload_len = VARSIZE_ANY_EXHDR(in) - kHeader;
    auto* payload = static_cast<bytea*>(palloc(VARHDRSZ + payload_len));
    SET_VARSIZE(payload, VARHDRSZ + payload_len);
    std::memcpy(VARDATA(payload), VARDATA_ANY(in) + kHeader, payload_len);
    Datum other = call_fit_function(pgs_btyd_fit_deserialize, fcinfo, PointerGetDatum(payload), false, 0, true);
    pfree(payload);
    if (!have) PG_RETURN_DATUM(other);
    PG_RETURN_DATUM(call_fit_function(pgs_btyd_fit_combine, fcinfo, PG_GETARG_DATUM(0), false, other, false));
}

}  // namespace

PGS_FUNCTION(pgs_btyd_summary_state_final) { return state_final(fcinfo, kSummaries); }
PGS_FUNCTION(pgs_btyd_spend_state_final) { return state_final(fcinfo, kSpends); }
PGS_FUNCTION(pgs_btyd_period_state_final) { return state_final(fcinfo, kPeriods); }
PGS_FUNCTION(pgs_btyd_summary_state_merge) {
    return merge_accum(fcinfo, kSummaries, "bgnbd_fit_merge/mbgnbd_fit_merge/paretonbd_fit_merge");
}
PGS_FUNCTION(pgs_btyd_period_state_merge) { return merge_accum(fcinfo, kPeriods, "bgbb_fit_merge"); }
PGS_FUNCTION(pgs_btyd_spend_state_merge) { return merge_accum(fcinfo, kSpends, "gammagamma_fit_merge"); }
