// The BTYD core against independent derivations: analytic gradients against finite differences,
// the Pareto/NBD integral against closed forms, scores against direct numerical integration of the
// posterior, the optimiser on known problems, input checks and extreme inputs.
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss_kronrod.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "btyd/lbfgs.h"
#include "btyd/models.h"
#include "btyd/summary.h"
#include "errors.h"

using namespace pgs::core::btyd;
using pgs::core::Error;
using pgs::core::ErrorKind;

namespace {

const BgNbd kBg{0.243, 4.414, 0.793, 2.426};
const ParetoNbd kPn{0.553, 10.578, 0.606, 11.669};
const GammaGamma kGg{6.25, 3.74, 15.44};

struct S {
    double x, t_x, T;
};
const S kSummaries[] = {{0, 0, 38.86}, {1, 1.71, 38.86}, {2, 30.43, 38.86}, {7, 29.43, 38.86},
                        {40, 38.0, 38.86}, {3, 0.5, 20}, {500, 100, 104}, {0, 0, 0.001}};

template <typename F>
double central(F f, double h) {
    return (f(h) - f(-h)) / (2 * h);
}

ErrorKind kind_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::internal;
}

}  // namespace

TEST(BtydMath, BgNbdGradientMatchesFiniteDifferences) {
    for (const S& s : kSummaries) {
        double g[4];
        bgnbd_loglik(kBg, s.x, s.t_x, s.T, g);
        for (int k = 0; k < 4; ++k) {
            auto f = [&](double h) {
                BgNbd m = kBg;
                double* p[] = {&m.r, &m.alpha, &m.a, &m.b};
                *p[k] += h;
                return bgnbd_loglik(m, s.x, s.t_x, s.T);
            };
            EXPECT_NEAR(g[k], central(f, 1e-6), 1e-5 * std::max(1.0, std::fabs(g[k]))) << "x=" << s.x << " k=" << k;
        }
    }
}

TEST(BtydMath, ParetoNbdGradientMatchesFiniteDifferences) {
    for (const S& s : kSummaries) {
        double g[4];
        paretonbd_loglik(kPn, s.x, s.t_x, s.T, g);
        for (int k = 0; k < 4; ++k) {
            auto f = [&](double h) {
                ParetoNbd m = kPn;
                double* p[] = {&m.r, &m.alpha, &m.s, &m.beta};
                *p[k] += h;
                return paretonbd_loglik(m, s.x, s.t_x, s.T);
            };
            EXPECT_NEAR(g[k], central(f, 1e-6), 1e-5 * std::max(1.0, std::fabs(g[k]))) << "x=" << s.x << " k=" << k;
        }
    }
}

TEST(BtydMath, GammaGammaGradientMatchesFiniteDifferences) {
    for (double x : {1.0, 2.0, 7.0, 300.0})
        for (double m : {0.5, 22.35, 1000.0}) {
            double g[3];
            gammagamma_loglik(kGg, x, m, g);
            for (int k = 0; k < 3; ++k) {
                auto f = [&](double h) {
                    GammaGamma mm = kGg;
                    double* p[] = {&mm.p, &mm.q, &mm.gamma};
                    *p[k] += h;
                    return gammagamma_loglik(mm, x, m);
                };
                EXPECT_NEAR(g[k], central(f, 1e-6), 1e-5 * std::max(1.0, std::fabs(g[k])));
            }
        }
}

// With alpha = beta the integrand is (alpha+y)^-(r+x+s+1): closed form.
TEST(BtydMath, ParetoIntegralMatchesClosedFormWhenAlphaEqualsBeta) {
    for (double x : {0.0, 1.0, 10.0, 1000.0}) {
        ParetoNbd m{0.5, 8.0, 0.7, 8.0};
        double t_x = x == 0 ? 0 : 3.0, T = 40;
        double k = m.r + x + m.s;  // exponent - 1
        double want = std::log(m.s) + (-k * std::log(m.alpha + t_x)) + std::log(-std::expm1(-k * std::log((m.alpha + T) / (m.alpha + t_x)))) - std::log(k);
        EXPECT_NEAR(paretonbd_log_tail_integral(m, x, t_x, T), want, 1e-10 * std::fabs(want)) << x;
    }
}

// The published closed form with Gauss 2F1 terms (Fader & Hardie 2005 note, eq. 3, alpha < beta).
TEST(BtydMath, ParetoIntegralMatchesHypergeometricForm) {
    const ParetoNbd m = kPn;  // alpha < beta
    for (const S& s : kSummaries) {
        if (s.x > 100 || s.T == s.t_x) continue;
        double rsx = m.r + m.s + s.x;
        auto term = [&](double y) {
            double z = (m.beta - m.alpha) / (m.beta + y);
            return std::exp(log_hyp2f1_positive(rsx, m.r + s.x, rsx + 1, z) - rsx * std::log(m.beta + y));
        };
        double a0 = term(s.t_x) - term(s.T);
        double want = std::log(m.s / rsx * a0);
        EXPECT_NEAR(paretonbd_log_tail_integral(m, s.x, s.t_x, s.T), want, 1e-9 * std::fabs(want)) << s.x;
    }
}

// The series the likelihood is summed with (z = |alpha - beta| / (max(alpha, beta) + t_x) <= 0.85)
// and its quadrature fallback against a direct adaptive Gauss-Kronrod integration of the integrand,
// over random parameters, frequencies up to 500, recencies down to 1e-9 below T, and alpha = beta.
// Before the quadrature took the curvature's peak as a panel boundary it was 6e-7 off for alpha << beta.
TEST(BtydMath, ParetoNbdLikelihoodMatchesDirectIntegration) {
    std::mt19937_64 gen(13);
    auto log_uniform = [&](double lo, double hi) {
        return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(gen));
    };
    const double xs[] = {0, 1, 2, 5, 20, 100, 500};
    double worst_series = 0, worst_quadrature = 0, worst_alive = 0;
    int series = 0;
    for (int i = 0; i < 400; ++i) {
        ParetoNbd m{log_uniform(0.05, 5), log_uniform(0.1, 100), log_uniform(0.05, 5), log_uniform(0.1, 100)};
        if (i % 10 == 0) m.beta = m.alpha;
        const double x = xs[i % 7], T = log_uniform(0.5, 150);
        const int kind = (i / 7) % 4;
        const double t_x = x == 0 ? 0 : kind == 0 ? T * (1 - 1e-9) : kind == 1 ? 1e-3 : T * std::uniform_real_distribution<double>(0, 1)(gen);
        const double p = m.r + x, q = m.s + 1;
        auto log_f = [&](double y) { return -p * std::log(m.alpha + y) - q * std::log(m.beta + y); };
        const double ref = log_f(t_x);  // the integrand decreases: its maximum
        // In u = log(alpha + y), dy = e^u du: smooth enough for the adaptive rule at any x.
        auto f = [&](double u) { return std::exp(log_f(std::exp(u) - m.alpha) - ref + u); };
        const double integral = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(
            f, std::log(m.alpha + t_x), std::log(m.alpha + T), 12, 1e-14);
        const double lA = -p * std::log(m.alpha + T) - m.s * std::log(m.beta + T);
        const double lI = std::log(m.s) + ref + std::log(integral);
        const double M = std::max(lA, lI), D = std::exp(lA - M) + std::exp(lI - M);
        const double want = std::lgamma(p) - std::lgamma(m.r) + m.r * std::log(m.alpha) + m.s * std::log(m.beta) + M + std::log(D);
        const double err = std::fabs(paretonbd_loglik(m, x, t_x, T) - want) / std::max(1.0, std::fabs(want));
        const bool by_series = std::fabs(m.beta - m.alpha) / (std::max(m.alpha, m.beta) + t_x) <= 0.85;
        series += by_series;
        (by_series ? worst_series : worst_quadrature) = std::max(by_series ? worst_series : worst_quadrature, err);
        worst_alive = std::max(worst_alive, std::fabs(paretonbd_p_alive(m, x, t_x, T) - std::exp(lA - M) / D));
    }
    EXPECT_GT(series, 250);  // 275 of the 400 by the series
    EXPECT_LT(worst_series, 1e-13);
    EXPECT_LT(worst_quadrature, 5e-11);
    EXPECT_LT(worst_alive, 1e-11);
}

// Continuous summaries (every recency and age distinct: no table of logs) drawn from a Pareto/NBD:
// the fit's evaluation agrees with the per-summary one, and the estimates come back.
TEST(BtydMath, ParetoNbdFitOnDistinctSummaries) {
    std::mt19937_64 gen(7);
    std::uniform_real_distribution<double> u(0, 1);
    std::gamma_distribution<double> lambda(0.55, 1 / 10.58), mu(0.61, 1 / 11.67);
    std::vector<CountedSummary> d;
    for (int i = 0; i < 20000; ++i) {
        const double T = 1 + 77 * u(gen), l = lambda(gen), end = std::min(T, -std::log(u(gen)) / mu(gen));
        double t = 0, t_x = 0, x = 0;
        while ((t += -std::log(u(gen)) / l) <= end) ++x, t_x = t;
        d.push_back({x, t_x, T, 1});
    }
    auto fit = fit_paretonbd(d.data(), d.size(), nullptr);
    EXPECT_TRUE(fit.status.converged) << fit.status.reason;
    EXPECT_NEAR(paretonbd_total_loglik(fit.params, d.data(), d.size()), fit.status.log_likelihood,
                1e-12 * std::fabs(fit.status.log_likelihood));
    EXPECT_NEAR(fit.params.r, 0.55, 0.1);
    EXPECT_NEAR(fit.params.s, 0.61, 0.2);
}

// P(alive) from the papers' closed forms, computed here independently.
TEST(BtydMath, ProbabilityAliveMatchesPublishedFormulas) {
    for (const S& s : kSummaries) {
        double want = s.x == 0 ? 1.0
                               : 1.0 / (1.0 + kBg.a / (kBg.b + s.x - 1) *
                                                  std::pow((kBg.alpha + s.T) / (kBg.alpha + s.t_x), kBg.r + s.x));
        EXPECT_NEAR(bgnbd_p_alive(kBg, s.x, s.t_x, s.T), want, 1e-12);
        double rsx = kPn.r + kPn.s + s.x;
        if (s.x > 100 || s.T == s.t_x) continue;
        auto term = [&](double y) {
            double z = (kPn.beta - kPn.alpha) / (kPn.beta + y);
            return std::exp(log_hyp2f1_positive(rsx, kPn.r + s.x, rsx + 1, z) - rsx * std::log(kPn.beta + y));
        };
        double a0 = term(s.t_x) - term(s.T);
        double pn = 1.0 / (1.0 + kPn.s / rsx * std::pow(kPn.alpha + s.T, kPn.r + s.x) * std::pow(kPn.beta + s.T, kPn.s) * a0);
        EXPECT_NEAR(paretonbd_p_alive(kPn, s.x, s.t_x, s.T), pn, 1e-9);
    }
    // A customer who just bought with a long history is almost surely alive.
    EXPECT_GT(bgnbd_p_alive(kBg, 40, 38.86, 38.86), 0.97);
    EXPECT_LT(bgnbd_p_alive(kBg, 40, 1, 38.86), 1e-10);
}

// E[Y(t) | alive] = E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p] with p ~ Beta(a, b+x) given alive,
// integrated directly (p = v^(1/a) removes the p^(a-1) singularity; midpoint rule, 2e5 points).
TEST(BtydMath, BgNbdExpectedPurchasesMatchesPosteriorIntegral) {
    for (const S& s : kSummaries) {
        if (s.x > 100) continue;
        for (double t : {1.0, 10.0, 52.0}) {
            const double a = kBg.a, b = kBg.b + s.x, A = kBg.r + s.x, k = t / (kBg.alpha + s.T);
            const double lbeta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
            const int n = 200000;
            double sum = 0;
            for (int i = 0; i < n; ++i) {
                double v = (i + 0.5) / n, p = std::pow(v, 1 / a);
                double h = -std::expm1(-A * std::log1p(p * k)) / p;
                sum += std::exp((b - 1) * std::log1p(-p) - lbeta) / a * h / n;
            }
            double want = sum * bgnbd_p_alive(kBg, s.x, s.t_x, s.T);
            EXPECT_NEAR(bgnbd_expected_purchases(kBg, s.x, s.t_x, s.T, t), want, 1e-6 * std::max(1.0, want))
                << s.x << " " << t;
        }
    }
    // Smooth through a = 1, where the closed form is 0/0.
    BgNbd lo = kBg, one = kBg, hi = kBg;
    lo.a = 0.999;
    one.a = 1.0;
    hi.a = 1.001;
    double e_lo = bgnbd_expected_purchases(lo, 2, 30.43, 38.86, 52), e1 = bgnbd_expected_purchases(one, 2, 30.43, 38.86, 52),
           e_hi = bgnbd_expected_purchases(hi, 2, 30.43, 38.86, 52);
    EXPECT_NEAR(e1, 0.5 * (e_lo + e_hi), 1e-5);
    // a + b < 1 (negative hypergeometric c for x = 0) still works and is increasing in t.
    BgNbd small{0.3, 5, 0.3, 0.4};
    double e10 = bgnbd_expected_purchases(small, 0, 0, 10, 10), e20 = bgnbd_expected_purchases(small, 0, 0, 10, 20);
    EXPECT_GT(e10, 0);
    EXPECT_GT(e20, e10);
}

// E[Y(t) | alive] = E[lambda] E[(1 - exp(-mu t)) / mu] with lambda ~ Gamma(r+x, alpha+T) and
// mu ~ Gamma(s, beta+T) given alive, the mu integral done numerically here.
TEST(BtydMath, ParetoNbdExpectedPurchasesMatchesPosteriorIntegral) {
    for (const S& s : kSummaries) {
        if (s.x > 100) continue;
        for (double t : {1.0, 39.0}) {
            const double shape = kPn.s, rate = kPn.beta + s.T;
            // mu = w^(1/shape) substitution, then midpoint on w in (0, W).
            const int n = 400000;
            const double W = std::pow(60.0 / rate, shape);
            double sum = 0;
            for (int i = 0; i < n; ++i) {
                double w = (i + 0.5) / n * W, mu = std::pow(w, 1 / shape);
                double dens = std::exp(shape * std::log(rate) - rate * mu - std::lgamma(shape)) / shape;  // * dmu/dw folded
                sum += dens * (-std::expm1(-mu * t)) / mu * W / n;
            }
            double want = (kPn.r + s.x) / (kPn.alpha + s.T) * sum * paretonbd_p_alive(kPn, s.x, s.t_x, s.T);
            EXPECT_NEAR(paretonbd_expected_purchases(kPn, s.x, s.t_x, s.T, t), want, 2e-5 * std::max(1.0, want))
                << s.x << " " << t;
        }
    }
}

TEST(BtydMath, GammaGammaExpectedSpend) {
    EXPECT_NEAR(gammagamma_expected_spend(kGg, 0, 0), 6.25 * 15.44 / 2.74, 1e-9);  // population mean
    EXPECT_NEAR(gammagamma_expected_spend(kGg, 2, 22.35), 6.25 * (15.44 + 44.7) / (12.5 + 2.74), 1e-9);
    // Shrinks towards the observed mean as x grows.
    EXPECT_NEAR(gammagamma_expected_spend(kGg, 100000, 50), 50, 0.01);
    EXPECT_EQ(kind_of([] { gammagamma_expected_spend({6, 0.9, 15}, 2, 10); }), ErrorKind::out_of_range);
}

TEST(BtydMath, MedianTimeToNextPurchase) {
    // Lomax median (alpha + t_x)(2^(1/(r+x)) - 1); the waiting-time CDF is 1/2 there.
    double med = median_time_to_next_purchase(0.243, 4.414, 1, 10);
    EXPECT_NEAR(1 - std::pow((4.414 + 10) / (4.414 + 10 + med), 1.243), 0.5, 1e-12);
    EXPECT_NEAR(median_time_to_next_purchase(2, 10, 0, 0), 10 * (std::sqrt(2.0) - 1), 1e-12);
    EXPECT_EQ(kind_of([] { median_time_to_next_purchase(1, 1, 0, 3); }), ErrorKind::invalid_argument);
}

TEST(BtydMath, ClvIsDiscountedMonthlyIncrements) {
    // Constant one purchase per period: each month adds spend * f, discounted.
    auto linear = [](double t) { return t; };
    double want = 0;
    for (int i = 1; i <= 12; ++i) want += 10 * 4.345 / std::pow(1.01, i);
    EXPECT_NEAR(discounted_value(linear, 10, 12, 0.01, 4.345), want, 1e-9);
    EXPECT_EQ(discounted_value(linear, 10, 0, 0.01, 4.345), 0);
    EXPECT_EQ(kind_of([] { check_clv_arguments(12, -1); }), ErrorKind::invalid_argument);
}

TEST(BtydMath, InvalidSummariesAreRejected) {
    auto check = [](double x, double t_x, double T) { return kind_of([&] { check_summary(x, t_x, T); }); };
    EXPECT_EQ(check(2, 40, 38), ErrorKind::invalid_argument);        // recency > T
    EXPECT_EQ(check(-1, 0, 38), ErrorKind::invalid_argument);        // negative
    EXPECT_EQ(check(1, -1, 38), ErrorKind::invalid_argument);
    EXPECT_EQ(check(0, 0, -1), ErrorKind::invalid_argument);
    EXPECT_EQ(check(0, 5, 38), ErrorKind::invalid_argument);         // x = 0 with recency
    EXPECT_EQ(check(1.5, 5, 38), ErrorKind::invalid_argument);       // non-integer
    EXPECT_EQ(check(NAN, 5, 38), ErrorKind::invalid_argument);
    EXPECT_EQ(check(1, 5, INFINITY), ErrorKind::invalid_argument);
    EXPECT_EQ(check(0, 0, 0), ErrorKind::internal);                  // fine: no error
    EXPECT_EQ(kind_of([] { check_monetary(2, 0); }), ErrorKind::invalid_argument);
    EXPECT_EQ(kind_of([] { bgnbd_p_alive(kBg, 3, 50, 40); }), ErrorKind::invalid_argument);
    EXPECT_EQ(kind_of([] { paretonbd_expected_purchases(kPn, 3, 5, 40, -1); }), ErrorKind::invalid_argument);
    EXPECT_EQ(kind_of([] { period_days_of("months"); }), ErrorKind::invalid_argument);
}

TEST(BtydMath, ExtremeInputsStayFinite) {
    for (double x : {1e3, 1e5}) {
        for (double t_x : {1e-9, 50.0, 100.0}) {
            double g[4];
            EXPECT_TRUE(std::isfinite(bgnbd_loglik(kBg, x, t_x, 100, g)));
            EXPECT_TRUE(std::isfinite(paretonbd_loglik(kPn, x, t_x, 100, g)));
            for (double v : g) EXPECT_TRUE(std::isfinite(v));
            double pa = bgnbd_p_alive(kBg, x, t_x, 100), pp = paretonbd_p_alive(kPn, x, t_x, 100);
            EXPECT_TRUE(pa >= 0 && pa <= 1);
            EXPECT_TRUE(pp >= 0 && pp <= 1);
            EXPECT_TRUE(std::isfinite(bgnbd_expected_purchases(kBg, x, t_x, 100, 52)));
            EXPECT_TRUE(std::isfinite(paretonbd_expected_purchases(kPn, x, t_x, 100, 52)));
        }
    }
    // Zero recency and age, and parameters far from the data scale.
    EXPECT_EQ(bgnbd_loglik(kBg, 0, 0, 0), 0);
    EXPECT_NEAR(paretonbd_loglik(kPn, 0, 0, 0), 0, 1e-12);
    EXPECT_TRUE(std::isfinite(paretonbd_loglik({1e-7, 1e7, 1e-7, 1e-7}, 30, 10, 40)));
    EXPECT_TRUE(std::isfinite(paretonbd_loglik({50, 1e-6, 50, 1e6}, 3, 10, 40)));
    // x = 1000 at BG/NBD: expected purchases of an active heavy buyer ~ rate * t.
    double e = bgnbd_expected_purchases(kBg, 1000, 100, 100, 1);
    EXPECT_NEAR(e, 1000.243 / 104.414 * bgnbd_p_alive(kBg, 1000, 100, 100), 0.2);
}

TEST(BtydMath, LbfgsSolvesBoundedRosenbrock) {
    Objective rosen = [](const std::vector<double>& x, std::vector<double>& g) {
        double a = 1 - x[0], b = x[1] - x[0] * x[0];
        g[0] = -2 * a - 400 * x[0] * b;
        g[1] = 200 * b;
        return a * a + 100 * b * b;
    };
    auto r = minimize_lbfgsb(rosen, {-1.2, 1}, {-5, -5}, {5, 5}, LbfgsOptions{}, nullptr);
    EXPECT_TRUE(r.converged) << r.reason;
    EXPECT_NEAR(r.x[0], 1, 1e-5);
    EXPECT_NEAR(r.x[1], 1, 1e-5);
    // With x0 <= 0.5 the constrained minimum lies on the bound.
    auto b = minimize_lbfgsb(rosen, {-1.2, 1}, {-5, -5}, {0.5, 5}, LbfgsOptions{}, nullptr);
    EXPECT_TRUE(b.converged) << b.reason;
    EXPECT_DOUBLE_EQ(b.x[0], 0.5);
    EXPECT_NEAR(b.x[1], 0.25, 1e-5);
}

TEST(BtydMath, PollAbortsFits) {
    std::vector<CountedSummary> d = {{0, 0, 38, 10}, {2, 20, 38, 3}, {5, 30, 38, 1}};
    int calls = 0;
    Poll poll = [&] {
        if (++calls == 5) throw Error(ErrorKind::query_canceled, "canceled");
    };
    EXPECT_EQ(kind_of([&] { fit_bgnbd(d.data(), d.size(), poll); }), ErrorKind::query_canceled);
    calls = 0;
    EXPECT_EQ(kind_of([&] { fit_paretonbd(d.data(), d.size(), poll); }), ErrorKind::query_canceled);
    EXPECT_EQ(kind_of([&] { fit_bgnbd(d.data(), 0, nullptr); }), ErrorKind::invalid_argument);
}

TEST(BtydMath, RfmSummaryRules) {
    // Same-day orders count once (amounts summed); orders after the cut-off are ignored.
    std::vector<DayAmount> o = {{10, 5}, {3, 20}, {10, 7}, {3, 1}, {17, 30}, {40, 99}};
    auto s = summarize_orders(o.data(), o.data() + o.size(), 24, 7.0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->frequency, 2);
    EXPECT_DOUBLE_EQ(s->recency, 14.0 / 7);
    EXPECT_DOUBLE_EQ(s->age, 21.0 / 7);
    EXPECT_DOUBLE_EQ(s->monetary, (12.0 + 30.0) / 2);
    std::vector<DayAmount> one = {{5, 10}, {5, 3}};
    auto s1 = summarize_orders(one.data(), one.data() + one.size(), 5, 1.0);
    ASSERT_TRUE(s1);
    EXPECT_EQ(s1->frequency, 0);
    EXPECT_EQ(s1->recency, 0);
    EXPECT_EQ(s1->age, 0);
    EXPECT_EQ(s1->monetary, 0);
    std::vector<DayAmount> late = {{50, 1}};
    EXPECT_FALSE(summarize_orders(late.data(), late.data() + 1, 49, 1.0));
}
