#include "guard.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

#include "../core/errors.h"

namespace pgs {
namespace {

void copy_text(char* dst, std::size_t size, const char* src) {
    if (src == nullptr) {
        dst[0] = '\0';
        return;
    }
    std::strncpy(dst, src, size - 1);
    dst[size - 1] = '\0';
}

int sqlstate_of(core::ErrorKind kind) {
    switch (kind) {
        case core::ErrorKind::invalid_argument: return ERRCODE_INVALID_PARAMETER_VALUE;
        case core::ErrorKind::out_of_range: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        case core::ErrorKind::datetime_out_of_range: return ERRCODE_DATETIME_VALUE_OUT_OF_RANGE;
        case core::ErrorKind::query_canceled: return ERRCODE_QUERY_CANCELED;
        case core::ErrorKind::internal: break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

}  // namespace

void capture_current_exception(ErrorText& out) noexcept {
    out.clear();
    try {
        throw;
    } catch (const PgError& e) {
        out = e.text();
    } catch (const core::Error& e) {
        out.sqlerrcode = sqlstate_of(e.kind());
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.hint, sizeof out.hint, e.hint().c_str());
    } catch (const std::invalid_argument& e) {
        out.sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (const std::out_of_range& e) {
        out.sqlerrcode = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (const std::domain_error& e) {
        // Boost.Math reports arguments outside a function's domain, overflow and underflow with
        // these standard exceptions: bad input, never an internal error.
        out.sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.hint, sizeof out.hint, "An argument is outside the range the model can compute with.");
    } catch (const std::overflow_error& e) {
        out.sqlerrcode = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.hint, sizeof out.hint, "An argument is too large for the model; pass values of a realistic size.");
    } catch (const std::underflow_error& e) {
        out.sqlerrcode = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (const std::range_error& e) {
        out.sqlerrcode = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (const std::bad_alloc&) {
        out.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
        copy_text(out.message, sizeof out.message, "out of memory in pg_segments");
    } catch (const std::exception& e) {
        out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (...) {
        out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
        copy_text(out.message, sizeof out.message, "unknown C++ exception in pg_segments");
    }
}

void raise_error(const ErrorText& err) {
    // A core loop stopped because an interrupt is pending: let PostgreSQL report it as it would
    // (cancel, statement timeout, termination); 57014 only if nothing is pending any more.
    if (err.sqlerrcode == ERRCODE_QUERY_CANCELED) CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(err.sqlerrcode), errmsg_internal("%s", err.message),
                    err.detail[0] ? errdetail_internal("%s", err.detail) : 0,
                    err.hint[0] ? errhint("%s", err.hint) : 0));
    pg_unreachable();
}

void pg_call_failed(MemoryContext oldcxt, ErrorText& out) {
    MemoryContextSwitchTo(oldcxt);
    ErrorData* edata = CopyErrorData();
    FlushErrorState();
    out.clear();
    out.sqlerrcode = edata->sqlerrcode;
    copy_text(out.message, sizeof out.message, edata->message);
    copy_text(out.detail, sizeof out.detail, edata->detail);
    copy_text(out.hint, sizeof out.hint, edata->hint);
    FreeErrorData(edata);
}

}  // namespace pgs
