// The C ABI boundary. Every SQL-callable entry point runs its C++ body through guarded(); every
// PostgreSQL call that can ereport while C++ objects with destructors are alive goes through
// pg_call(). See docs/cpp-boundary.md.
#pragma once
#include <exception>
#include <type_traits>

#include "pg.h"

namespace pgs {

// A PostgreSQL error caught by pg_call, carried as a C++ exception up to the guard, which
// re-raises it with its original SQLSTATE, message, detail and hint.
// No member initializers on purpose: guarded() and pg_call() keep one on the stack on every call,
// and zero-filling its 2.5 kB each time was the largest cost of an aggregate's transition call.
// Whoever fills one (capture_current_exception, pg_call_failed) sets every field.
struct ErrorText {
    int sqlerrcode;
    char message[1024];
    char detail[1024];
    char hint[512];
    void clear() noexcept {
        sqlerrcode = 0;
        message[0] = detail[0] = hint[0] = '\0';
    }
};

class PgError : public std::exception {
public:
    explicit PgError(const ErrorText& text) : text_(text) {}
    const char* what() const noexcept override { return text_.message; }
    const ErrorText& text() const noexcept { return text_; }

private:
    ErrorText text_;
};

// Fills `out` from the exception being handled. Called only inside a catch block; touches no
// PostgreSQL state.
void capture_current_exception(ErrorText& out) noexcept;
// ereport(ERROR) from captured text. Called only outside any catch block.
[[noreturn]] void raise_error(const ErrorText& err);

template <typename F>
inline auto guarded(F&& body) -> decltype(body()) {
    ErrorText err;  // trivially destructible: a longjmp through this frame is harmless
    try {
        return body();
    } catch (...) {
        capture_current_exception(err);
    }
    raise_error(err);
}

// Runs a PostgreSQL call; an ereport(ERROR) inside becomes a thrown PgError.
void pg_call_failed(MemoryContext oldcxt, ErrorText& out);

template <typename F>
inline auto pg_call(F&& call) -> decltype(call()) {
    using R = decltype(call());
    MemoryContext oldcxt = CurrentMemoryContext;
    ErrorText err;
    volatile bool failed = false;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        { call(); }
        PG_CATCH();
        {
            pg_call_failed(oldcxt, err);
            failed = true;
        }
        PG_END_TRY();
        if (failed) throw PgError(err);
    } else {
        R result{};
        PG_TRY();
        { result = call(); }
        PG_CATCH();
        {
            pg_call_failed(oldcxt, err);
            failed = true;
        }
        PG_END_TRY();
        if (failed) throw PgError(err);
        return result;
    }
}

}  // namespace pgs

// Declares an SQL-callable function whose body runs inside the guard.
#define PGS_FUNCTION(name)                                   \
    static Datum name##_impl(PG_FUNCTION_ARGS);              \
    extern "C" {                                             \
    PG_FUNCTION_INFO_V1(name);                               \
    Datum name(PG_FUNCTION_ARGS);                            \
    }                                                        \
    Datum name(PG_FUNCTION_ARGS) {                           \
        return pgs::guarded([&]() { return name##_impl(fcinfo); }); \
    }                                                        \
    static Datum name##_impl(PG_FUNCTION_ARGS)
