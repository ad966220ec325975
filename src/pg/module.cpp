// Library entry: the module magic and _PG_init, which defines settings and, when preloaded,
// registers the background worker launcher.
#include "pg.h"
#include "settings.h"
extern "C" {
#include "utils/guc.h"
}

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace pgs {
void define_engine_settings();  // src/pg/engine_settings.cpp
}
namespace pgs::worker {
void define_settings_and_register();  // src/worker/launcher.cpp
}

void _PG_init(void) {
    pgs::define_engine_settings();  // before define_analytics_settings reserves the prefix
    pgs::define_analytics_settings();
    pgs::worker::define_settings_and_register();
    // Last, after every pg_segments.* setting is defined: reserving the prefix earlier would discard
    // postgresql.conf values of settings defined later (with a "removing it" warning).
    MarkGUCPrefixReserved("pg_segments");
}
