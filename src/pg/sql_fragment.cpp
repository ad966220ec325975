// segments_internal._check_fragment(sql, what): the SQL-fragment check of src/core/sql_fragment.h,
// returning the fragment without trailing spaces and semicolons, or raising a clear error.
#include "../core/sql_fragment.h"
#include "guard.h"

namespace {

struct Complaint {
    int sqlstate;
    const char* message;  // %s: what was checked (rule, query, mapping orders.amount, ...)
    const char* hint;
};

const Complaint* complaint(pgs::core::FragmentProblem p) {
    using pgs::core::FragmentProblem;
    static const Complaint empty{ERRCODE_INVALID_PARAMETER_VALUE, "%s is empty", "Give an SQL expression or query."};
    static const Complaint quote{ERRCODE_SYNTAX_ERROR, "%s has an unterminated quoted string or identifier",
                                 "Close every ' and \" you open."};
    static const Complaint comment{ERRCODE_SYNTAX_ERROR, "%s has an unterminated /* comment",
                                   "Close every /* with */ (comments nest)."};
    static const Complaint dollar{ERRCODE_SYNTAX_ERROR, "%s has an unterminated dollar-quoted string",
                                  "Close every $tag$ with the same $tag$."};
    static const Complaint semicolon{ERRCODE_SYNTAX_ERROR, "%s must be a single SQL expression or query, without \";\"",
                                     "Remove the semicolon; combine conditions with AND / OR."};
    switch (p) {
        case FragmentProblem::none: return nullptr;
        case FragmentProblem::empty: return &empty;
        case FragmentProblem::unterminated_quote: return &quote;
        case FragmentProblem::unterminated_comment: return &comment;
        case FragmentProblem::unterminated_dollar: return &dollar;
        case FragmentProblem::semicolon: return &semicolon;
    }
    return nullptr;
}

}  // namespace

PGS_FUNCTION(pgs_check_fragment) {
    const char* what = PG_ARGISNULL(1) ? "SQL text" : text_to_cstring(PG_GETARG_TEXT_PP(1));
    text* sql = PG_ARGISNULL(0) ? nullptr : PG_GETARG_TEXT_PP(0);
    pgs::core::FragmentCheck check = sql == nullptr
        ? pgs::core::FragmentCheck{pgs::core::FragmentProblem::empty, 0}
        : pgs::core::check_sql_fragment(std::string_view(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql)));
    if (const Complaint* c = complaint(check.problem))
        ereport(ERROR, (errcode(c->sqlstate), errmsg(c->message, what), errhint("%s", c->hint)));
    PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(sql), static_cast<int>(check.length)));
}
