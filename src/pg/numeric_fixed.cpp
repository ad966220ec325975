#include "numeric_fixed.h"

#include <cstring>

#include "convert.h"

namespace pgs {
namespace {

// The on-disk layout of numeric (PostgreSQL's src/backend/utils/adt/numeric.c, unchanged since 9.1
// and fixed by pg_upgrade's binary compatibility): a 16-bit header word, in the long form followed
// by a 16-bit weight, then base-10000 digits.
constexpr uint16 kSignMask = 0xC000, kNeg = 0x4000, kShort = 0x8000, kSpecial = 0xC000;
constexpr uint16 kShortSign = 0x2000, kShortDscaleMask = 0x1F80, kShortDscaleShift = 7;
constexpr uint16 kShortWeightSign = 0x0040, kShortWeightMask = 0x003F, kDscaleMask = 0x3FFF;
// 10 base-10000 digits are 40 decimal digits: more than 128 bits hold.
constexpr int kMaxDigits = 10;

}  // namespace

NumericFit numeric_to_fixed(Datum value, const char* what, core::FixedDecimal& out) {
    struct varlena* v = PG_DETOAST_DATUM_PACKED(value);
    const char* p = VARDATA_ANY(v);
    const std::size_t len = VARSIZE_ANY_EXHDR(v);
    uint16 header;
    std::memcpy(&header, p, sizeof header);  // a short varlena's data is not aligned
    if ((header & kSignMask) == kSpecial) {
        check_finite_numeric(reinterpret_cast<Numeric>(PG_DETOAST_DATUM(value)), what);
        return NumericFit::too_wide;  // not reached: NaN and infinity ereport
    }
    bool negative;
    int dscale, weight;
    std::size_t head;
    if (header & kShort) {
        negative = (header & kShortSign) != 0;
        dscale = (header & kShortDscaleMask) >> kShortDscaleShift;
        weight = (header & kShortWeightSign) ? (~static_cast<int>(kShortWeightMask) | (header & kShortWeightMask))
                                              : (header & kShortWeightMask);
        head = sizeof(uint16);
    } else {
        negative = (header & kSignMask) == kNeg;
        dscale = header & kDscaleMask;
        int16 w;
        std::memcpy(&w, p + sizeof(uint16), sizeof w);
        weight = w;
        head = 2 * sizeof(uint16);
    }
    const int ndigits = static_cast<int>((len - head) / sizeof(int16));
    if (ndigits > kMaxDigits || dscale > core::kMaxScale) return NumericFit::too_wide;
    int16 digits[kMaxDigits];
    std::memcpy(digits, p + head, ndigits * sizeof(int16));
    return core::fixed_from_base10000(digits, ndigits, weight, dscale, negative, out) ? NumericFit::fits
                                                                                    : NumericFit::too_wide;
}

bool numeric_nonnegative(Datum value) {
    struct varlena* v = PG_DETOAST_DATUM_PACKED(value);
    uint16 header;
    std::memcpy(&header, VARDATA_ANY(v), sizeof header);
    constexpr uint16 kSpecialKindMask = 0xF000, kNegInfinity = 0xF000;
    if ((header & kSignMask) == kSpecial) return (header & kSpecialKindMask) != kNegInfinity;
    if (header & kShort) return (header & kShortSign) == 0;  // zero is stored positive
    return (header & kSignMask) != kNeg;
}

Numeric fixed_to_numeric(core::int128_t units, int scale) {
    if (units >= PG_INT64_MIN && units <= PG_INT64_MAX)
        return int64_div_fast_to_numeric(static_cast<int64>(units), scale);
    char text[core::kFixedTextSize];
    core::fixed_to_text(units, scale, text);
    return DatumGetNumeric(
        DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

void WideSum::add(MemoryContext cxt, const core::FixedDecimal& v) {
    if (!fast.add(v)) add_numeric(cxt, fixed_to_numeric(v.units, v.scale));
}

void WideSum::add_numeric(MemoryContext cxt, Numeric v) {
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Numeric sum = overflow ? numeric_add_opt_error(overflow, v, nullptr)
                           : reinterpret_cast<Numeric>(PG_DETOAST_DATUM_COPY(NumericGetDatum(v)));
    MemoryContextSwitchTo(old);
    if (overflow) pfree(overflow);
    overflow = sum;
}

void WideSum::add(MemoryContext cxt, const WideSum& other) {
    add(cxt, core::FixedDecimal{other.fast.units, other.fast.scale});
    if (other.overflow) add_numeric(cxt, other.overflow);
}

Numeric WideSum::value() const {
    Numeric sum = fixed_to_numeric(fast.units, fast.scale);
    return overflow ? numeric_add_opt_error(overflow, sum, nullptr) : sum;
}

std::size_t WideSum::serialized_size() const {
    return sizeof(core::int128_t) + 2 * sizeof(int32) + (overflow ? VARSIZE(overflow) : 0);
}

void WideSum::write(ByteWriter& w) const {
    const int32 overflow_size = overflow ? static_cast<int32>(VARSIZE(overflow)) : 0;
    w.put(fast.units);
    w.put<int32>(fast.scale);
    w.put(overflow_size);
    if (overflow_size > 0) {
        std::memcpy(w.cursor, overflow, overflow_size);
        w.cursor += overflow_size;
    }
}

void WideSum::read(ByteReader& r) {
    fast.units = r.get<core::int128_t>();
    fast.scale = r.get<int32>();
    const int32 overflow_size = r.get<int32>();
    if (overflow_size < 0 || r.cursor + overflow_size > r.end || fast.scale < 0 || fast.scale > core::kMaxScale)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt pg_segments sum state")));
    overflow = nullptr;
    if (overflow_size > 0) {
        overflow = static_cast<Numeric>(palloc(overflow_size));
        std::memcpy(overflow, r.cursor, overflow_size);
        r.cursor += overflow_size;
    }
}

}  // namespace pgs
