// Turning a core enum (lifecycle, value band) into the OID of the SQL enum label the function
// returns, cached per call site in fn_extra. The labels are the core's (kLifecycleLabels,
// kValueBandLabels); the glue keeps no list of its own.
#pragma once
#include <array>
#include <cstddef>

#include "pg.h"

namespace pgs {

constexpr int kMaxEnumLabels = 8;

// The label OIDs of the enum type `type`, in the order given (count <= kMaxEnumLabels).
void enum_label_oids(Oid type, const char* const* labels, int count, Oid* out);

// Label OIDs of the calling function's enum return type, in the order given; `labels` must hold
// `count` entries whose index equals the core enum's value. Called without live C++ objects.
Datum enum_label_datum(FunctionCallInfo fcinfo, const char* const* labels, int count, int index);

// The same from a core label array and the core enum's value.
template <std::size_t N, typename Enum>
inline Datum enum_label_datum(FunctionCallInfo fcinfo, const std::array<const char*, N>& labels, Enum value) {
    static_assert(N <= kMaxEnumLabels, "raise kMaxEnumLabels");
    return enum_label_datum(fcinfo, labels.data(), static_cast<int>(N), static_cast<int>(value));
}

}  // namespace pgs
