#include "sql_fragment.h"

#include <gtest/gtest.h>

#include <string>

using namespace pgs::core;

namespace {
FragmentProblem problem(std::string_view s) { return check_sql_fragment(s).problem; }
}  // namespace

TEST(SqlFragment, AcceptsExpressionsAndQueries) {
    EXPECT_EQ(problem("orders > 1 AND revenue >= 100"), FragmentProblem::none);
    EXPECT_EQ(problem("email LIKE '%;%'"), FragmentProblem::none);
    EXPECT_EQ(problem("\"odd;name\" = 'it''s; fine'"), FragmentProblem::none);
    EXPECT_EQ(problem("x = E'a\\';b'"), FragmentProblem::none);
    EXPECT_EQ(problem("x = 1 -- a comment; with a semicolon"), FragmentProblem::none);
    EXPECT_EQ(problem("x = /* outer /* inner; */ still; */ 1"), FragmentProblem::none);
    EXPECT_EQ(problem("x = $$a;b$$ AND y = $t$;$$;$t$"), FragmentProblem::none);
    EXPECT_EQ(problem("a$1 = 2"), FragmentProblem::none);  // $ inside an identifier is no quote
    EXPECT_EQ(problem("x = 'ünïcödé;'"), FragmentProblem::none);
}

TEST(SqlFragment, TrailingSemicolonsAndSpacesAreTrimmed) {
    FragmentCheck c = check_sql_fragment("orders > 1 ;; \n");
    EXPECT_EQ(c.problem, FragmentProblem::none);
    EXPECT_EQ(c.length, 10u);
}

TEST(SqlFragment, RejectsWhatWouldEscapeTheStatement) {
    EXPECT_EQ(problem(""), FragmentProblem::empty);
    EXPECT_EQ(problem(" ; \t"), FragmentProblem::empty);
    EXPECT_EQ(problem("true; DROP TABLE x"), FragmentProblem::semicolon);
    EXPECT_EQ(problem("x = 'open"), FragmentProblem::unterminated_quote);
    EXPECT_EQ(problem("x = \"open"), FragmentProblem::unterminated_quote);
    EXPECT_EQ(problem("x = E'a\\'"), FragmentProblem::unterminated_quote);
    EXPECT_EQ(problem("x = /* /* */ 1"), FragmentProblem::unterminated_comment);
    EXPECT_EQ(problem("x = /"), FragmentProblem::none);
    EXPECT_EQ(problem("x = $q$ 1"), FragmentProblem::unterminated_dollar);
}

// Megabytes of quotes, comments, dollars or plain text: one pass each (the PL/pgSQL check this
// replaces took 125 s for 100,000 characters; a quadratic scan would make this test take minutes).
TEST(SqlFragment, LinearInLength) {
    std::string plain(1 << 20, 'a'), quotes, comments;
    for (int i = 0; i < (1 << 18); ++i) quotes += "'x'=";
    for (int i = 0; i < (1 << 17); ++i) comments += "/**/ x";
    EXPECT_EQ(problem(plain), FragmentProblem::none);
    EXPECT_EQ(problem(quotes + "1"), FragmentProblem::none);
    EXPECT_EQ(problem(comments), FragmentProblem::none);
    EXPECT_EQ(problem(std::string(1 << 20, '/') + "*"), FragmentProblem::unterminated_comment);
    EXPECT_EQ(problem(std::string(1 << 20, '$')), FragmentProblem::none);
}
