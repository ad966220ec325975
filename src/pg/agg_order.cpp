// fed_in_order (agg_state.h): does an aggregate call carry ORDER BY <its argument> ASC?
#include "agg_state.h"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/typcache.h"
}

namespace pgs {

bool fed_in_order(FunctionCallInfo fcinfo, int arg) {
    Aggref* ref = AggGetAggref(fcinfo);
    if (ref == nullptr || ref->aggorder == NIL) return false;
    auto* key = linitial_node(SortGroupClause, ref->aggorder);
    if (key->nulls_first) return false;
    TargetEntry* tle = get_sortgroupclause_tle(key, ref->args);
    // The first sort key is the argument itself (the parser reuses its target entry), sorted by
    // its type's default `<`.
    return tle->resno == arg + 1 && !tle->resjunk &&
           key->sortop == lookup_type_cache(exprType(reinterpret_cast<Node*>(tle->expr)), TYPECACHE_LT_OPR)->lt_opr;
}

}  // namespace pgs
