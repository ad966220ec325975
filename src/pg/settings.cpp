#include "settings.h"

#include "pg.h"
extern "C" {
#include "utils/guc.h"
}

namespace pgs {
namespace {
double just_ordered_days = 30;
double active_sigmas = 1.0;
double lost_sigmas = 3.0;
double min_spread_ratio = 0.5;
double typical_latency_days = 90;
}  // namespace

void define_analytics_settings() {
    DefineCustomRealVariable("pg_segments.lifecycle_just_ordered_days",
                             "Days after an order during which a customer counts as just_ordered.", nullptr,
                             &just_ordered_days, 30, 0, 36500, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("pg_segments.lifecycle_active_sigmas",
                             "A customer stays active while silent at most mean gap + this many spreads.",
                             nullptr, &active_sigmas, 1.0, 0, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("pg_segments.lifecycle_lost_sigmas",
                             "A customer is lost once silent more than mean gap + this many spreads.", nullptr,
                             &lost_sigmas, 3.0, 0, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("pg_segments.lifecycle_min_spread_ratio",
                             "Lower bound of a customer's gap spread, as a fraction of the mean gap.", nullptr,
                             &min_spread_ratio, 0.5, 0, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("pg_segments.typical_latency_days",
                             "Cadence in days assumed for customers with a single order.", nullptr,
                             &typical_latency_days, 90, 0.001, 36500, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

core::LifecycleRule lifecycle_rule_from_settings() {
    core::LifecycleRule rule;
    rule.just_ordered_days = just_ordered_days;
    rule.active_sigmas = active_sigmas;
    rule.lost_sigmas = lost_sigmas;
    rule.min_spread_ratio = min_spread_ratio;
    rule.typical_latency_days = typical_latency_days;
    return rule;
}

}  // namespace pgs
