// Settings of the segment engine (docs/segments.md#settings); read by the engine SQL in sql/engine/.
#include <climits>

#include "pg.h"
extern "C" {
#include "utils/guc.h"
}

namespace pgs {
namespace {
int facts_max_age_s = 600;
int run_retention_s = 30 * 86400;
}  // namespace

void define_engine_settings() {
    DefineCustomIntVariable("pg_segments.facts_max_age",
                            "Customer facts older than this are refreshed before a segment refresh (-1: never).",
                            "Refresh them yourself with segments.refresh_facts() when -1.", &facts_max_age_s, 600, -1,
                            INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pg_segments.run_retention",
                            "segments.prune_runs() deletes finished runs older than this.", nullptr,
                            &run_retention_s, 30 * 86400, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
}

}  // namespace pgs
