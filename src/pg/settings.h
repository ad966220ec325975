// The extension's GUCs (documented in docs/settings.md). Defined once, in _PG_init.
#pragma once
#include "../core/lifecycle.h"

namespace pgs {

void define_analytics_settings();
// The life-cycle rule as the current settings give it.
core::LifecycleRule lifecycle_rule_from_settings();

}  // namespace pgs
