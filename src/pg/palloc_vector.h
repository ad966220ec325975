// The one growable array in PostgreSQL memory (a life-cycle state's order times, a window
// partition's earlier orders, the launcher's databases). Trivially destructible on purpose: its
// memory belongs to the context it came from and goes with that context, so it can sit in palloc'd
// or zeroed memory (all zero bytes is an empty vector) and an ereport longjmp past it leaks
// nothing. The first `Inline` elements live in the object itself, so a 64-byte aggregate state
// holds a customer's first orders with no chunk of its own. Elements are plain bytes (trivially
// copyable). Out of memory throws std::bad_alloc, as PallocAllocator does (53200 through the guard).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

#include "pg.h"

namespace pgs {

namespace detail {
template <typename T, std::uint32_t N>
struct InlineSlots {
    T slots[N];
    T* get() { return slots; }
    const T* get() const { return slots; }
};
template <typename T>
struct InlineSlots<T, 0> {
    T* get() { return nullptr; }
    const T* get() const { return nullptr; }
};
}  // namespace detail

template <typename T, std::uint32_t Inline = 0>
class PallocVector : private detail::InlineSlots<T, Inline> {
    static_assert(std::is_trivially_copyable_v<T>, "PallocVector moves its elements with memcpy");

public:
    T* data() { return heap_ != nullptr ? heap_ : this->get(); }
    const T* data() const { return heap_ != nullptr ? heap_ : this->get(); }
    std::uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::uint32_t capacity() const { return heap_ != nullptr ? capacity_ : Inline; }
    T& operator[](std::size_t i) { return data()[i]; }
    const T& operator[](std::size_t i) const { return data()[i]; }
    T& back() { return data()[size_ - 1]; }
    const T& back() const { return data()[size_ - 1]; }
    T* begin() { return data(); }
    T* end() { return data() + size_; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size_; }

    // Room for n elements; a new block comes from `cxt`, at least twice the old capacity.
    void reserve(MemoryContext cxt, std::size_t n) {
        if (n > capacity()) grow(cxt, n);
    }
    void push_back(MemoryContext cxt, const T& v) {
        reserve(cxt, std::size_t(size_) + 1);
        data()[size_++] = v;
    }
    // Inserts v before position `pos` (<= size()).
    void insert(MemoryContext cxt, std::uint32_t pos, const T& v) {
        reserve(cxt, std::size_t(size_) + 1);
        T* d = data();
        std::memmove(d + pos + 1, d + pos, sizeof(T) * (size_ - pos));
        d[pos] = v;
        ++size_;
    }
    // Inserts v after the elements <= v (the vector is sorted ascending); appends in O(1) when the
    // values come in order.
    void insert_sorted(MemoryContext cxt, const T& v) {
        if (size_ == 0 || !(v < back()))
            push_back(cxt, v);
        else
            insert(cxt, static_cast<std::uint32_t>(std::upper_bound(begin(), end(), v) - begin()), v);
    }
    // Merges the n sorted values `other` into this sorted vector, in place from the back.
    void merge_sorted(MemoryContext cxt, const T* other, std::uint32_t n) {
        std::uint32_t i = size_, j = n;
        resize_for_overwrite(cxt, std::size_t(i) + j);
        T* t = data();
        for (std::uint32_t k = i + j; j > 0; --k) {
            if (i > 0 && other[j - 1] < t[i - 1])
                t[k - 1] = t[--i];
            else
                t[k - 1] = other[--j];
        }
    }
    // n elements; those beyond the old size are left for the caller to write.
    void resize_for_overwrite(MemoryContext cxt, std::size_t n) {
        reserve(cxt, n);
        size_ = static_cast<std::uint32_t>(n);
    }

private:
    void grow(MemoryContext cxt, std::size_t n) {
        constexpr std::size_t kMax = UINT32_MAX;
        constexpr std::size_t kFirst = Inline > 0 ? 2 * std::size_t(Inline) : 16;
        if (n > kMax) throw std::bad_alloc();
        const std::size_t cap = std::min(kMax, std::max({n, 2 * std::size_t(capacity()), kFirst}));
        void* p = MemoryContextAllocExtended(cxt, cap * sizeof(T), MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
        if (p == nullptr) throw std::bad_alloc();
        if (size_ > 0) std::memcpy(p, data(), sizeof(T) * size_);
        if (heap_ != nullptr) pfree(heap_);
        heap_ = static_cast<T*>(p);
        capacity_ = static_cast<std::uint32_t>(cap);
    }

    T* heap_;  // nullptr while the elements fit in the inline slots
    std::uint32_t size_;
    std::uint32_t capacity_;  // of heap_
};

}  // namespace pgs
