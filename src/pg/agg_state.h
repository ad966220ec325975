// Helpers shared by the aggregate entry points: the aggregate memory context and bytea framing
// for SERIALFUNC/DESERIALFUNC.
#pragma once
#include <cstring>

#include "pg.h"

namespace pgs {

// The aggregate (or window aggregate) memory context; ereports when called outside an aggregate.
inline MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* fname) {
    MemoryContext cxt;
    if (!AggCheckCallContext(fcinfo, &cxt))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s called in non-aggregate context", fname)));
    return cxt;
}

// Fixed-size transition states carved from blocks of the aggregate context: no chunk header and no
// rounding up to a power of two per group, so hash aggregation over a million customers keeps
// half as many bytes per customer beside PostgreSQL's own hash entry. The arena lives in fn_extra of
// the function that allocates; a reset callback on the aggregate context (hash aggregation resets
// it between spill batches, sorted aggregation after each group) makes it forget the blocks.
// States from it are never freed or repalloc'd one by one.
struct StateArena {
    MemoryContext cxt;  // where the current block lives, or nullptr
    char* next;
    char* end;
    std::size_t block_size;  // grows from 1 kB to 64 kB, so a group-by-group reset stays cheap
    int switches;            // contexts changed under us (grouping sets): give up after a few
};

// The arena of a function that keeps nothing else in fn_extra.
inline StateArena* fn_arena(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(StateArena));
    return static_cast<StateArena*>(fcinfo->flinfo->fn_extra);
}

// `size` zeroed bytes in `cxt`, at an address that is a multiple of `align` (a power of two, at
// least MAXALIGN): a state of 64 bytes aligned to 64 is one cache line, where a group's row lands.
inline void* arena_alloc(StateArena* arena, MemoryContext cxt, std::size_t size, std::size_t align = MAXIMUM_ALIGNOF) {
    constexpr int kMaxSwitches = 16;
    size = MAXALIGN(size);
    auto aligned = [align](char* p) {
        return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + align - 1) & ~(uintptr_t)(align - 1));
    };
    if (arena->cxt == cxt && aligned(arena->next) + size <= arena->end) {
        char* p = aligned(arena->next);
        arena->next = p + size;
        std::memset(p, 0, size);
        return p;
    }
    if (arena->cxt != nullptr && arena->cxt != cxt && ++arena->switches > kMaxSwitches)
        return MemoryContextAllocZero(cxt, size);
    struct Hook {
        MemoryContextCallback callback;
        StateArena* arena;
        MemoryContext cxt;
    };
    const bool fresh = arena->cxt != cxt;
    arena->block_size = fresh || arena->block_size == 0 ? 1024 : Min(arena->block_size * 2, static_cast<std::size_t>(65536));
    const std::size_t hook_size = fresh ? MAXALIGN(sizeof(Hook)) : 0;
    const std::size_t block_bytes = Max(arena->block_size, hook_size + size + align);
    char* block = static_cast<char*>(MemoryContextAlloc(cxt, block_bytes));
    if (fresh) {
        auto* hook = reinterpret_cast<Hook*>(block);
        hook->arena = arena;
        hook->cxt = cxt;
        hook->callback.arg = hook;
        hook->callback.func = [](void* arg) {
            auto* h = static_cast<Hook*>(arg);
            if (h->arena->cxt == h->cxt) h->arena->cxt = nullptr;
        };
        MemoryContextRegisterResetCallback(cxt, &hook->callback);
    }
    char* p = aligned(block + hook_size);
    arena->cxt = cxt;
    arena->next = p + size;
    arena->end = block + block_bytes;
    std::memset(p, 0, size);
    return p;
}

// Appends raw bytes to a bytea under construction.
struct ByteWriter {
    bytea* out;
    char* cursor;
    explicit ByteWriter(std::size_t payload) {
        out = static_cast<bytea*>(palloc(VARHDRSZ + payload));
        SET_VARSIZE(out, VARHDRSZ + payload);
        cursor = VARDATA(out);
    }
    template <typename T>
    void put(const T& v) {
        std::memcpy(cursor, &v, sizeof(T));
        cursor += sizeof(T);
    }
};

struct ByteReader {
    const char* cursor;
    const char* end;
    explicit ByteReader(const bytea* in) : cursor(VARDATA_ANY(in)), end(VARDATA_ANY(in) + VARSIZE_ANY_EXHDR(in)) {}
    template <typename T>
    T get() {
        T v;
        if (cursor + sizeof(T) > end)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("truncated pg_segments aggregate state")));
        std::memcpy(&v, cursor, sizeof(T));
        cursor += sizeof(T);
        return v;
    }
};

}  // namespace pgs
