#include "sql_fragment.h"

namespace pgs::core {
namespace {

bool trailing(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';'; }
bool ident_start(unsigned char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80; }
bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }

// Length of a dollar-quote tag ($$ or $name$) starting at i, or 0.
std::size_t dollar_tag(std::string_view s, std::size_t i) {
    std::size_t j = i + 1;
    if (j < s.size() && ident_start(static_cast<unsigned char>(s[j])) && s[j] != '$') {
        ++j;
        while (j < s.size() && ident_char(static_cast<unsigned char>(s[j])) && s[j] != '$') ++j;
    }
    return j < s.size() && s[j] == '$' ? j - i + 1 : 0;
}

}  // namespace

FragmentCheck check_sql_fragment(std::string_view sql) {
    std::size_t n = sql.size();
    while (n > 0 && trailing(sql[n - 1])) --n;
    std::string_view s = sql.substr(0, n);
    if (s.find_first_not_of(" \t\r\n;") == std::string_view::npos) return {FragmentProblem::empty, 0};
    std::size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\'' || c == '"') {
            // E'...' strings take backslash escapes; '' (or "") inside is a quote.
            bool escapes = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E');
            std::size_t j = i + 1;
            for (;;) {
                if (j >= n) return {FragmentProblem::unterminated_quote, n};
                if (escapes && s[j] == '\\') {
                    j += 2;
                    continue;
                }
                if (s[j] == c) {
                    if (j + 1 < n && s[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            i = j + 1;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            std::size_t eol = s.find('\n', i);
            i = eol == std::string_view::npos ? n : eol + 1;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            int depth = 1;
            std::size_t j = i + 2;
            while (depth > 0) {
                if (j + 1 >= n) return {FragmentProblem::unterminated_comment, n};
                if (s[j] == '/' && s[j + 1] == '*') {
                    ++depth;
                    j += 2;
                } else if (s[j] == '*' && s[j + 1] == '/') {
                    --depth;
                    j += 2;
                } else {
                    ++j;
                }
            }
            i = j;
        } else if (c == '$' && (i == 0 || !ident_char(static_cast<unsigned char>(s[i - 1])))) {
            std::size_t tag = dollar_tag(s, i);
            if (tag == 0) {
                ++i;
                continue;
            }
            std::size_t close = s.find(s.substr(i, tag), i + tag);
            if (close == std::string_view::npos) return {FragmentProblem::unterminated_dollar, n};
            i = close + tag;
        } else if (c == ';') {
            return {FragmentProblem::semicolon, n};
        } else {
            ++i;
        }
    }
    return {FragmentProblem::none, n};
}

}  // namespace pgs::core
