// Hostile inputs (issue 13): every BTYD core function, over extreme finite values, infinities and
// NaN in every argument (one and two at a time), returns a finite value or throws a core::Error
// that maps to a class-22 SQLSTATE (invalid_argument, out_of_range) with a hint. Counts the
// violations so a failure lists them all.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "btyd/models.h"
#include "btyd/summary.h"
#include "errors.h"

using namespace pgs::core::btyd;
using pgs::core::Error;
using pgs::core::ErrorKind;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const std::vector<double> kExtremes = {0,   5e-324, 1e-300, 1e-10, 0.5,   1,    2,     38.86, 1e6,
                                       1e15, 1e300, 1e308, DBL_MAX, -1,  -1e308, kInf, -kInf, NAN};

struct Case {
    const char* name;
    std::vector<double> base;  // a valid call
    std::function<double(const std::vector<double>&)> call;
};

std::vector<Case> cases() {
    auto bg = [](const std::vector<double>& v) { return BgNbd{v[0], v[1], v[2], v[3]}; };
    auto pn = [](const std::vector<double>& v) { return ParetoNbd{v[0], v[1], v[2], v[3]}; };
    const std::vector<double> b4 = {0.243, 4.414, 0.793, 2.426}, p4 = {0.553, 10.578, 0.606, 11.669};
    auto with = [](std::vector<double> a, std::vector<double> b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    return {
        {"bgnbd_p_alive", with(b4, {2, 30.43, 38.86}), [=](const auto& v) { return bgnbd_p_alive(bg(v), v[4], v[5], v[6]); }},
        {"bgnbd_expected_purchases", with(b4, {2, 30.43, 38.86, 39}),
         [=](const auto& v) { return bgnbd_expected_purchases(bg(v), v[4], v[5], v[6], v[7]); }},
        {"bgnbd_loglik", with(b4, {2, 30.43, 38.86}), [=](const auto& v) { return bgnbd_customer_loglik(bg(v), v[4], v[5], v[6]); }},
        {"paretonbd_p_alive", with(p4, {2, 30.43, 38.86}),
         [=](const auto& v) { return paretonbd_p_alive(pn(v), v[4], v[5], v[6]); }},
        {"paretonbd_expected_purchases", with(p4, {2, 30.43, 38.86, 39}),
         [=](const auto& v) { return paretonbd_expected_purchases(pn(v), v[4], v[5], v[6], v[7]); }},
        {"paretonbd_loglik", with(p4, {2, 30.43, 38.86}),
         [=](const auto& v) { return paretonbd_customer_loglik(pn(v), v[4], v[5], v[6]); }},
        {"gammagamma_expected_spend", {6.25, 3.74, 15.44, 2, 22.35},
         [](const auto& v) { return gammagamma_expected_spend({v[0], v[1], v[2]}, v[3], v[4]); }},
        {"median_time_to_next_purchase", {0.243, 4.414, 2, 30.43},
         // The glue's time_to_next_order wraps it so (expected_next_order_at maps +inf to 'infinity').
         [](const auto& v) { return finite_or_fail(median_time_to_next_purchase(v[0], v[1], v[2], v[3]), "t"); }},
        {"mbgnbd_p_alive", with(b4, {2, 30.43, 38.86}), [=](const auto& v) { return mbgnbd_p_alive(bg(v), v[4], v[5], v[6]); }},
        {"mbgnbd_expected_purchases", with(b4, {2, 30.43, 38.86, 39}),
         [=](const auto& v) { return mbgnbd_expected_purchases(bg(v), v[4], v[5], v[6], v[7]); }},
        {"mbgnbd_loglik", with(b4, {2, 30.43, 38.86}), [=](const auto& v) { return mbgnbd_customer_loglik(bg(v), v[4], v[5], v[6]); }},
        {"bgnbd_probability_of_purchases", with(b4, {39, 2}),
         [=](const auto& v) { return bgnbd_probability_of_purchases(bg(v), v[4], v[5]); }},
        {"mbgnbd_probability_of_purchases", with(b4, {39, 2}),
         [=](const auto& v) { return mbgnbd_probability_of_purchases(bg(v), v[4], v[5]); }},
        {"paretonbd_probability_of_purchases", with(p4, {39, 2}),
         [=](const auto& v) { return paretonbd_probability_of_purchases(pn(v), v[4], v[5]); }},
        {"bgnbd_expected_purchases_new", with(b4, {39}), [=](const auto& v) { return bgnbd_expected_purchases_new(bg(v), v[4]); }},
        {"paretonbd_expected_purchases_new", with(p4, {39}),
         [=](const auto& v) { return paretonbd_expected_purchases_new(pn(v), v[4]); }},
        {"bgbb_p_alive", {1.204, 0.75, 0.657, 2.783, 2, 4, 6},
         [](const auto& v) { return bgbb_p_alive({v[0], v[1], v[2], v[3]}, v[4], v[5], v[6]); }},
        {"bgbb_expected_purchases", {1.204, 0.75, 0.657, 2.783, 2, 4, 6, 5},
         [](const auto& v) { return bgbb_expected_purchases({v[0], v[1], v[2], v[3]}, v[4], v[5], v[6], v[7]); }},
        {"bgbb_loglik", {1.204, 0.75, 0.657, 2.783, 2, 4, 6},
         [](const auto& v) { return bgbb_customer_loglik({v[0], v[1], v[2], v[3]}, v[4], v[5], v[6]); }},
        {"bgbb_expected_purchases_new", {1.204, 0.75, 0.657, 2.783, 6},
         [](const auto& v) { return bgbb_expected_purchases_new({v[0], v[1], v[2], v[3]}, v[4]); }},
        {"bgbb_probability_of_purchases", {1.204, 0.75, 0.657, 2.783, 6, 2},
         [](const auto& v) { return bgbb_probability_of_purchases({v[0], v[1], v[2], v[3]}, v[4], v[5]); }},
        {"bgnbd_clv", with(b4, {2, 30.43, 38.86, 12, 0.01}), [=](const auto& v) {
             return discounted_value([&](double t) { return bgnbd_expected_purchases(bg(v), v[4], v[5], v[6], t); }, 24.0,
                                     (check_clv_arguments(static_cast<int>(std::fmin(std::fmax(v[7], -5), 5000)), v[8]),
                                      static_cast<int>(std::fmin(std::fmax(v[7], -5), 5000))),
                                     v[8], 4.345);
         }},
    };
}

// Runs one call; returns "" when it is acceptable, else a description.
std::string judge(const Case& c, const std::vector<double>& v) {
    try {
        const double r = c.call(v);
        if (std::isfinite(r)) return "";
        return "returned " + std::to_string(r);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::internal) return std::string("internal error: ") + e.what();
        if (e.hint().empty()) return std::string("error without hint: ") + e.what();
        return "";
    } catch (const std::exception& e) {
        return std::string("foreign exception: ") + e.what();
    }
}

std::string show(const std::vector<double>& v) {
    std::string s = "(";
    for (double x : v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g,", x);
        s += b;
    }
    s.back() = ')';
    return s;
}

}  // namespace

TEST(BtydHostile, NoNonFiniteResultNoInternalError) {
    int calls = 0, bad = 0;
    for (const Case& c : cases()) {
        const std::size_t n = c.base.size();
        auto run = [&](const std::vector<double>& v) {
            ++calls;
            std::string why = judge(c, v);
            if (!why.empty()) {
                if (++bad <= 60) ADD_FAILURE() << c.name << show(v) << ": " << why;
            }
        };
        for (std::size_t i = 0; i < n; ++i)
            for (double a : kExtremes) {
                std::vector<double> v = c.base;
                v[i] = a;
                run(v);
                for (std::size_t j = i + 1; j < n; ++j)
                    for (double b : kExtremes) {
                        std::vector<double> w = v;
                        w[j] = b;
                        run(w);
                    }
            }
    }
    EXPECT_EQ(bad, 0) << "of " << calls << " calls";
    std::printf("hostile sweep: %d calls, %d non-finite or internal\n", calls, bad);
}

// Fits over a few ordinary summaries plus one extreme row: an error of class 22, or a model whose
// parameters and log-likelihood are finite (converged or not).
TEST(BtydHostile, FitsStayFiniteOrRejectTheRow) {
    int fits = 0, bad = 0;
    const std::vector<CountedSummary> base = {{0, 0, 38, 5}, {1, 20, 38, 2}, {2, 30, 38, 2}, {5, 36, 38, 1}};
    for (int coord = 0; coord < 4; ++coord)
        for (double v : kExtremes) {
            std::vector<CountedSummary> d = base;
            CountedSummary extra{3, 10, 30, 1};
            double* f[] = {&extra.x, &extra.t_x, &extra.T, &extra.count};
            *f[coord] = v;
            d.push_back(extra);
            std::vector<CountedSpend> sp = {{1, 20, 3}, {2, 35, 2}, {4, 15, 1}};
            CountedSpend se{3, 25, 1};
            double* g[] = {&se.x, &se.m, &se.count, &se.m};
            *g[coord] = v;
            sp.push_back(se);
            auto check = [&](const char* name, auto fit, auto params) {
                ++fits;
                try {
                    auto r = fit();
                    bool ok = std::isfinite(r.status.log_likelihood);
                    for (double p : params(r)) ok = ok && std::isfinite(p);
                    if (!ok && ++bad <= 20) ADD_FAILURE() << name << " coord " << coord << " = " << v << ": not finite";
                } catch (const Error& e) {
                    if ((e.kind() == ErrorKind::internal || e.hint().empty()) && ++bad <= 20)
                        ADD_FAILURE() << name << " coord " << coord << " = " << v << ": " << e.what();
                } catch (const std::exception& e) {
                    if (++bad <= 20) ADD_FAILURE() << name << " coord " << coord << " = " << v << ": foreign " << e.what();
                }
            };
            // The glue checks each row as it arrives (check_summary / check_monetary); so do we here.
            auto checked_bg = [&] {
                for (auto& r : d) check_summary(r.x, r.t_x, r.T);
                return fit_bgnbd(d.data(), d.size(), nullptr);
            };
            auto checked_pn = [&] {
                for (auto& r : d) check_summary(r.x, r.t_x, r.T);
                return fit_paretonbd(d.data(), d.size(), nullptr);
            };
            auto checked_gg = [&] {
                for (auto& r : sp) check_monetary(r.x, r.m);
                return fit_gammagamma(sp.data(), sp.size(), nullptr);
            };
            if (coord == 3 && !(v >= 1)) continue;  // counts come from count(*): whole and positive
            check("bgnbd_fit", checked_bg, [](const auto& r) { return std::vector<double>{r.params.r, r.params.alpha, r.params.a, r.params.b}; });
            check("paretonbd_fit", checked_pn, [](const auto& r) { return std::vector<double>{r.params.r, r.params.alpha, r.params.s, r.params.beta}; });
            check("gammagamma_fit", checked_gg, [](const auto& r) { return std::vector<double>{r.params.p, r.params.q, r.params.gamma}; });
        }
    EXPECT_EQ(bad, 0) << "of " << fits << " fits";
}
