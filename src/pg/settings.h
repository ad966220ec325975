// Every pg_segments.* setting (GUC), with its default, is defined in settings.cpp, once, in
// _PG_init; docs/settings.md lists them. The engine's SQL reads its settings through
// segments_internal._setting(), which loads this library first, so no default is repeated in SQL.
#pragma once
#include "../core/lifecycle.h"

namespace pgs::settings {

void define();  // from _PG_init, before anything else reads a setting

// The life-cycle rule as the current settings give it (defaults: core::LifecycleRule).
core::LifecycleRule lifecycle_rule();

// The background worker's (PGC_SIGHUP: postgresql.conf or ALTER SYSTEM, then a reload).
extern char* databases;          // pg_segments.databases
extern int naptime_s;            // pg_segments.naptime
extern bool scheduler_enabled;   // pg_segments.scheduler_enabled

}  // namespace pgs::settings
