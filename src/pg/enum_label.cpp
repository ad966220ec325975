#include "enum_label.h"

extern "C" {
#include "utils/lsyscache.h"
}

namespace pgs {
namespace {
struct LabelCache {
    Oid labels[kMaxEnumLabels];
};
}  // namespace

Datum enum_label_datum(FunctionCallInfo fcinfo, const char* const* labels, int count, int index) {
    Assert(count <= kMaxEnumLabels && index >= 0 && index < count);
    FmgrInfo* flinfo = fcinfo->flinfo;
    auto* cache = static_cast<LabelCache*>(flinfo->fn_extra);
    if (cache == nullptr) {
        Oid type = get_func_rettype(flinfo->fn_oid);
        cache = static_cast<LabelCache*>(MemoryContextAlloc(flinfo->fn_mcxt, sizeof(LabelCache)));
        for (int i = 0; i < count; ++i)
            cache->labels[i] =
                DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(labels[i]), ObjectIdGetDatum(type)));
        flinfo->fn_extra = cache;
    }
    return ObjectIdGetDatum(cache->labels[index]);
}

}  // namespace pgs
