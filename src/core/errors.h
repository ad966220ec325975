// Errors raised by the pure C++ core. The core knows nothing of PostgreSQL: the glue's guard
// maps each kind to an SQLSTATE (invalid_argument -> 22023, out_of_range -> 22003, ...).
#pragma once
#include <stdexcept>
#include <string>

namespace pgs::core {

// query_canceled: a long computation noticed a pending interrupt (its poll callback threw);
// the guard lets PostgreSQL process the interrupt, else reports 57014.
enum class ErrorKind { invalid_argument, out_of_range, datetime_out_of_range, query_canceled, internal };

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string hint = {})
        : std::runtime_error(message), kind_(kind), hint_(std::move(hint)) {}
    ErrorKind kind() const noexcept { return kind_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    ErrorKind kind_;
    std::string hint_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message, std::string hint = {}) {
    throw Error(kind, message, std::move(hint));
}

}  // namespace pgs::core
