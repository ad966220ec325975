// A C++ allocator over a PostgreSQL memory context, for Boost.Container / STL containers that live
// in PostgreSQL memory (aggregate states). Out of memory throws std::bad_alloc instead of
// longjmp'ing, so the guard reports it as SQLSTATE 53200.
#pragma once
#include <cstddef>
#include <new>

#include "pg.h"

namespace pgs {

template <typename T>
class PallocAllocator {
public:
    using value_type = T;

    explicit PallocAllocator(MemoryContext cxt) noexcept : cxt_(cxt) {}
    template <typename U>
    PallocAllocator(const PallocAllocator<U>& other) noexcept : cxt_(other.context()) {}

    T* allocate(std::size_t n) {
        void* p = MemoryContextAllocExtended(cxt_, n * sizeof(T), MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
        if (p == nullptr) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t) noexcept { pfree(p); }

    MemoryContext context() const noexcept { return cxt_; }
    template <typename U>
    bool operator==(const PallocAllocator<U>& o) const noexcept { return cxt_ == o.context(); }
    template <typename U>
    bool operator!=(const PallocAllocator<U>& o) const noexcept { return cxt_ != o.context(); }

private:
    MemoryContext cxt_;
};

// Constructs a T in `cxt` and registers its destructor to run when the context is reset, so objects
// that own memory (containers) are never leaked or left half-destroyed.
template <typename T, typename... Args>
T* make_in_context(MemoryContext cxt, Args&&... args) {
    struct Holder {
        MemoryContextCallback callback;
        alignas(T) unsigned char storage[sizeof(T)];
    };
    void* raw = MemoryContextAllocExtended(cxt, sizeof(Holder), MCXT_ALLOC_NO_OOM);
    if (raw == nullptr) throw std::bad_alloc();
    auto* holder = static_cast<Holder*>(raw);
    T* obj = new (holder->storage) T(std::forward<Args>(args)...);
    holder->callback.func = [](void* arg) { static_cast<T*>(arg)->~T(); };
    holder->callback.arg = obj;
    MemoryContextRegisterResetCallback(cxt, &holder->callback);
    return obj;
}

}  // namespace pgs
