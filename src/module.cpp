// The library: the module magic and _PG_init, which defines every setting and, when preloaded,
// sets up the background worker. It sits above the layers it ties together (core < pg < worker).
#include "pg/settings.h"
#include "worker/worker.h"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
    pgs::settings::define();
    pgs::worker::register_when_preloaded();
}
