// Turning a core enum (lifecycle, value band) into the OID of the SQL enum label the function
// returns, cached per call site in fn_extra.
#pragma once
#include "pg.h"

namespace pgs {

// Label OIDs of the calling function's enum return type, in the order given; `labels` must hold
// `count` entries whose index equals the core enum's value. Called without live C++ objects.
Datum enum_label_datum(FunctionCallInfo fcinfo, const char* const* labels, int count, int index);

}  // namespace pgs
