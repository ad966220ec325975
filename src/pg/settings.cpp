#include "settings.h"

#include <climits>

#include "guard.h"
extern "C" {
#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"
}

namespace pgs::settings {

char* databases = nullptr;
int naptime_s = 10;
bool scheduler_enabled = true;

namespace {

const core::LifecycleRule lifecycle_defaults;
double just_ordered_days = lifecycle_defaults.just_ordered_days;
double active_sigmas = lifecycle_defaults.active_sigmas;
double lost_sigmas = lifecycle_defaults.lost_sigmas;
double min_spread_ratio = lifecycle_defaults.min_spread_ratio;
double typical_latency_days = lifecycle_defaults.typical_latency_days;

// Read by the engine's SQL only (segments_internal._setting).
int facts_max_age_s = 600;
int run_retention_s = 30 * 86400;
int facts_refit_interval_s = 86400;
double facts_refit_share = 0.1;
int refresh_timeout_ms = 10 * 60 * 1000;

bool check_databases(char** newval, void** extra, GucSource source) {
    char* raw = pstrdup(*newval);
    List* names = NIL;
    bool ok = SplitGUCList(raw, ',', &names);
    list_free(names);
    pfree(raw);
    if (!ok) {
        GUC_check_errdetail("List syntax is invalid: give database names separated by commas.");
        return false;
    }
    return true;
}

void define_real(const char* name, const char* desc, double* var, double min, double max) {
    DefineCustomRealVariable(name, desc, nullptr, var, *var, min, max, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace

void define() {
    // Analytics: the life-cycle rule (docs/settings.md).
    define_real("pg_segments.lifecycle_just_ordered_days",
                "Days after an order during which a customer counts as just_ordered.", &just_ordered_days, 0, 36500);
    define_real("pg_segments.lifecycle_active_sigmas",
                "A customer stays active while silent at most mean gap + this many spreads.", &active_sigmas, 0, 100);
    define_real("pg_segments.lifecycle_lost_sigmas",
                "A customer is lost once silent more than mean gap + this many spreads.", &lost_sigmas, 0, 100);
    define_real("pg_segments.lifecycle_min_spread_ratio",
                "Lower bound of a customer's gap spread, as a fraction of the mean gap.", &min_spread_ratio, 0, 100);
    define_real("pg_segments.typical_latency_days", "Cadence in days assumed for customers with a single order.",
                &typical_latency_days, 0.001, 36500);

    // Engine (docs/segments.md#settings).
    DefineCustomIntVariable("pg_segments.facts_max_age",
                            "Customer facts older than this are refreshed before a segment refresh (-1: never).",
                            "Refresh them yourself with segments.refresh_facts() when -1.", &facts_max_age_s,
                            facts_max_age_s, -1, INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pg_segments.facts_refit_interval",
                            "With tracked sources, the automatic facts refresh is incremental; a full one (which "
                            "refits the predictive models) runs at least this often.",
                            nullptr, &facts_refit_interval_s, facts_refit_interval_s, 0, INT_MAX, PGC_USERSET,
                            GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("pg_segments.facts_refit_share",
                             "With tracked sources, the automatic facts refresh is full (a refit) once the customers "
                             "recomputed for changed source rows since the last fit exceed this share of the buyers it was "
                             "fitted over.",
                             "-1: only pg_segments.facts_refit_interval triggers a refit.", &facts_refit_share,
                             facts_refit_share, -1, 1e6, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pg_segments.run_retention", "segments.prune_runs() deletes finished runs older than this.",
                            nullptr, &run_retention_s, run_retention_s, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("pg_segments.refresh_timeout",
                            "Time limit of one due refresh (background worker or CALL segments.refresh_due()); "
                            "a refresh that exceeds it is cancelled and recorded as failed.",
                            "0 means no limit.", &refresh_timeout_ms, refresh_timeout_ms, 0, INT_MAX, PGC_SIGHUP,
                            GUC_UNIT_MS, nullptr, nullptr, nullptr);

    // Background worker (docs/worker.md).
    DefineCustomStringVariable(
        "pg_segments.databases", "Databases whose segments the background worker refreshes.",
        "Comma-separated database names; empty or '*' means every database that allows connections.", &databases, "",
        PGC_SIGHUP, GUC_LIST_INPUT, check_databases, nullptr, nullptr);
    DefineCustomIntVariable("pg_segments.naptime", "Time the worker sleeps between two looks for due segments.",
                            nullptr, &naptime_s, naptime_s, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomBoolVariable("pg_segments.scheduler_enabled", "Whether the background worker refreshes segments.",
                             "Off stops every scheduler; manual refreshes still work.", &scheduler_enabled,
                             scheduler_enabled, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    // Last, after every setting is defined: reserving the prefix earlier would discard
    // postgresql.conf values of settings defined later (with a "removing it" warning).
    MarkGUCPrefixReserved("pg_segments");
}

core::LifecycleRule lifecycle_rule() {
    core::LifecycleRule rule;
    rule.just_ordered_days = just_ordered_days;
    rule.active_sigmas = active_sigmas;
    rule.lost_sigmas = lost_sigmas;
    rule.min_spread_ratio = min_spread_ratio;
    rule.typical_latency_days = typical_latency_days;
    return rule;
}

}  // namespace pgs::settings

// segments_internal._setting(name): a pg_segments.* setting as text, as SHOW gives it. Calling it
// loads the library, which defines every setting with its default.
PGS_FUNCTION(pgs_setting) {
    char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (strncmp(name, "pg_segments.", strlen("pg_segments.")) != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("\"%s\" is not a pg_segments setting", name),
                        errhint("SELECT name FROM pg_settings WHERE name LIKE 'pg_segments.%%' lists them.")));
    PG_RETURN_TEXT_P(cstring_to_text(GetConfigOptionByName(name, nullptr, false)));
}
