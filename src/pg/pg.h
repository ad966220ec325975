// The one way glue files include PostgreSQL: last, after every std/Boost/fmt header, inside
// extern "C". PostgreSQL's c.h/port.h macros (snprintf, Max, gettext...) would break those
// libraries' headers if they came first.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}
