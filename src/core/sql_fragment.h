// Is a text one SQL fragment: no top-level semicolon, no unterminated quote, comment or
// dollar-quoted string? Rules, queries and mapping expressions are spliced into one statement
// only after this check; the server parses that statement and reports every other error.
// One pass over the bytes (all the syntax it looks for is ASCII, and PostgreSQL's server
// encodings never put an ASCII byte inside a multibyte character), so any length is linear.
#pragma once
#include <cstddef>
#include <string_view>

namespace pgs::core {

enum class FragmentProblem {
    none,
    empty,                // nothing but spaces and semicolons
    unterminated_quote,   // a ' or " never closed
    unterminated_comment, // a /* never closed (they nest)
    unterminated_dollar,  // a $tag$ never closed
    semicolon,            // a ; outside quotes and comments: more than one statement
};

struct FragmentCheck {
    FragmentProblem problem;
    std::size_t length;  // of the fragment without trailing spaces and semicolons
};

FragmentCheck check_sql_fragment(std::string_view sql);

}  // namespace pgs::core
