// The one door into the engine's catalog writes (docs/security.md). Each write entry point, e.g.
// segments.create_segment(name, ...), is declared as this C function; it calls
// segments_internal.create_segment(caller, name, ...), a SECURITY DEFINER function owned by the
// extension owner (the only role that may write the catalog), passing as `caller` the role that
// called: GetUserId(), i.e. current_user where the call was made. A SECURITY DEFINER function
// cannot learn that role itself (inside it current_user is its owner, and session_user or the
// "role" setting would name the outer session: the superuser worker, while it refreshes a rule
// owned by someone else). The implementation checks the caller's role and ownership before acting.
#include "guard.h"

extern "C" {
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/syscache.h"
}

namespace {

struct Target {
    FmgrInfo impl;
    short nargs;  // the implementation's: the caller, then the entry point's arguments
};

// segments_internal.<this function's name>(regrole, <this function's argument types>).
Target* find_target(FunctionCallInfo fcinfo) {
    HeapTuple tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
    Form_pg_proc proc = (Form_pg_proc)GETSTRUCT(tup);
    int n = proc->pronargs;
    if (n + 1 > FUNC_MAX_ARGS) elog(ERROR, "too many arguments for an engine entry point");
    Oid argtypes[FUNC_MAX_ARGS];
    argtypes[0] = REGROLEOID;
    for (int i = 0; i < n; i++) argtypes[i + 1] = proc->proargtypes.values[i];
    List* name = list_make2(makeString(pstrdup("segments_internal")), makeString(pstrdup(NameStr(proc->proname))));
    ReleaseSysCache(tup);
    Oid impl = LookupFuncName(name, n + 1, argtypes, false);
    auto* t = (Target*)MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Target));
    fmgr_info_cxt(impl, &t->impl, fcinfo->flinfo->fn_mcxt);
    t->nargs = (short)(n + 1);
    return t;
}

}  // namespace

// No C++ object with a destructor lives in this frame: the implementation's errors longjmp
// through it unchanged (SQLSTATE, hint and context intact).
PGS_FUNCTION(pgs_engine_call) {
    auto* t = (Target*)fcinfo->flinfo->fn_extra;
    if (t == nullptr) {
        t = find_target(fcinfo);
        fcinfo->flinfo->fn_extra = t;
    }
    LOCAL_FCINFO(inner, FUNC_MAX_ARGS);
    InitFunctionCallInfoData(*inner, &t->impl, t->nargs, fcinfo->fncollation, fcinfo->context, fcinfo->resultinfo);
    inner->args[0].value = ObjectIdGetDatum(GetUserId());
    inner->args[0].isnull = false;
    for (int i = 1; i < t->nargs; i++) inner->args[i] = fcinfo->args[i - 1];
    Datum result = FunctionCallInvoke(inner);
    fcinfo->isnull = inner->isnull;
    return result;
}
