// Time arithmetic shared by the core: PostgreSQL timestamps are microseconds, users think in days.
#pragma once
#include <cstdint>

namespace pgs::core {

constexpr double kMicrosPerDay = 86400.0 * 1e6;

inline double micros_to_days(std::int64_t micros) { return static_cast<double>(micros) / kMicrosPerDay; }
inline double micros_to_days(double micros) { return micros / kMicrosPerDay; }

}  // namespace pgs::core
