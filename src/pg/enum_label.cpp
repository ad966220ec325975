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

void enum_label_oids(Oid type, const char* const* labels, int count, Oid* out) {
    Assert(count <= kMaxEnumLabels);
    for (int i = 0; i < count; ++i)
        out[i] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(labels[i]), ObjectIdGetDatum(type)));
}

Datum enum_label_datum(FunctionCallInfo fcinfo, const char* const* labels, int count, int index) {
    Assert(count <= kMaxEnumLabels && index >= 0 && index < count);
    FmgrInfo* flinfo = fcinfo->flinfo;
    auto* cache = static_cast<LabelCache*>(flinfo->fn_extra);
    if (cache == nullptr) {
        cache = static_cast<LabelCache*>(MemoryContextAlloc(flinfo->fn_mcxt, sizeof(LabelCache)));
        enum_label_oids(get_func_rettype(flinfo->fn_oid), labels, count, cache->labels);
        flinfo->fn_extra = cache;
    }
    return ObjectIdGetDatum(cache->labels[index]);
}

}  // namespace pgs
