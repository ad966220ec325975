// Ometria's customer value bands: a value against a reference (the mean AOV of all customers).
#pragma once
#include <array>

namespace pgs::core {

enum class ValueBand { low = 0, medium = 1, high = 2, very_high = 3 };
// The labels, indexed by ValueBand: the only list in C++ (the glue returns these). The SQL enum
// value_band (sql/analytics/types.sql) lists the same in the same order; analytics_labels checks it.
inline constexpr std::array<const char*, 4> kValueBandLabels = {"low", "medium", "high", "very_high"};
inline const char* value_band_label(ValueBand band) { return kValueBandLabels[static_cast<int>(band)]; }

// below 0.75 low; 0.75..1.25 medium; above 1.25 up to 2.5 high; above 2.5 very_high (bounds inclusive
// downward). Throws on a non-finite value or a reference that is not positive.
ValueBand value_band(double value, double reference);

}  // namespace pgs::core
