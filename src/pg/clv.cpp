// clv(numeric): historic customer lifetime value, the sum of order amounts. The state, combine,
// serialize and final functions are PostgreSQL's own sum(numeric) machinery (exact, parallel safe,
// invertible for moving windows); we add only the refusal of NaN and infinite amounts.
#include "convert.h"
#include "guard.h"

PGS_FUNCTION(pgs_clv_accum) {
    if (!PG_ARGISNULL(1)) pgs::check_finite_numeric(PG_GETARG_NUMERIC(1), "clv amount");
    return numeric_avg_accum(fcinfo);
}
