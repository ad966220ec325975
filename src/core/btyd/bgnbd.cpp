// BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"). Individual likelihood:
//   L = Gamma(r+x) alpha^r / Gamma(r) * B(a, b+x) / B(a, b)
//       * [ (alpha+T)^-(r+x) + [x > 0] a / (b+x-1) (alpha+t_x)^-(r+x) ]
// evaluated in logs (the bracket with log-sum-exp), with its analytic gradient.
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/digamma.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../errors.h"
#include "fit_common.h"
#include "models.h"
#include "summary.h"

namespace pgs::core::btyd {

namespace {

using boost::math::digamma;
using boost::math::ibetac;
// Boost reports overflow and domain errors by errno and an inf/NaN result instead of throwing; the
// scores then go through finite_or_fail.
using boost_policy = boost::math::policies::policy<boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
                                                   boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
                                                   boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>>;
[[noreturn]] void too_long_horizon();

// Terms of the log-likelihood that depend on x and the parameters only. The MBG/NBD (modified:
// a customer may also drop out at time 0, Batislam, Denizel & Filiztekin 2007) is the BG/NBD with b
// shifted by one in the drop-out terms and the second term present for x = 0 too.
struct XTerms {
    double lg, dr;          // lgamma(r+x) - lgamma(r), psi(r+x) - psi(r)
    double lbeta, da, db;   // log B(a,b+x+s) - log B(a,b) and its derivatives in a and b (s = 1 if modified)
    double log_ratio;       // log a - log(b+x-1+s)
    double inv_bx1;         // 1 / (b+x-1+s)
    bool dropout;           // the drop-out term is present: x > 0, or modified
};

XTerms x_terms(const BgNbd& m, double x, bool modified = false) {
    XTerms t{};
    const double r = m.r, a = m.a, b = m.b, s = modified ? 1.0 : 0.0;
    t.dropout = modified || x > 0;
    if (x > 0) {
        t.lg = std::lgamma(r + x) - std::lgamma(r);
        t.dr = digamma(r + x) - digamma(r);
    }
    if (t.dropout) {
        const double bx = b + x + s;
        t.lbeta = std::lgamma(a + b) + std::lgamma(bx) - std::lgamma(b) - std::lgamma(a + bx);
        double d_abx = digamma(a + bx), d_ab = digamma(a + b);
        t.da = d_ab - d_abx;
        t.db = d_ab + digamma(bx) - digamma(b) - d_abx;
        t.log_ratio = std::log(a) - std::log(bx - 1);
        t.inv_bx1 = 1.0 / (bx - 1);
    }
    return t;
}

// Log-likelihood of one summary given its x terms and log(alpha + t_x), log(alpha + T); grad (4)
// optional.
inline double ll_logs(const BgNbd& m, const XTerms& xt, double log_alpha, double x, double t_x, double T,
                      double ltx, double lT, double* grad) {
    const double r = m.r, al = m.alpha;
    const double rx = r + x;
    const double A3 = -rx * lT;
    const bool d = xt.dropout;
    double ll, w4 = 0;
    if (d) {
        const double A4 = xt.log_ratio - rx * ltx;
        const double M = std::max(A3, A4);
        const double e3 = std::exp(A3 - M), e4 = std::exp(A4 - M);
        const double S = e3 + e4;
        w4 = e4 / S;
        ll = M + std::log(S);
    } else {
        ll = A3;
    }
    ll += xt.lg + r * log_alpha + xt.lbeta;
    if (grad) {
        const double w3 = 1.0 - w4;
        grad[0] = xt.dr + log_alpha - w3 * lT - (d ? w4 * ltx : 0.0);
        grad[1] = r / al - rx * (w3 / (al + T) + (d ? w4 / (al + t_x) : 0.0));
        grad[2] = xt.da + (d ? w4 / m.a : 0.0);
        grad[3] = xt.db - (d ? w4 * xt.inv_bx1 : 0.0);
    }
    return ll;
}

inline double ll_with(const BgNbd& m, const XTerms& xt, double log_alpha, double x, double t_x, double T,
                      double* grad) {
    return ll_logs(m, xt, log_alpha, x, t_x, T, xt.dropout ? std::log(m.alpha + t_x) : 0.0, std::log(m.alpha + T), grad);
}

void check_model(const BgNbd& m) {
    const double p[4] = {m.r, m.alpha, m.a, m.b};
    check_parameters(p, 4, "bgnbd", "r, alpha, a, b");
}

}  // namespace

double bgnbd_loglik(const BgNbd& m, double x, double t_x, double T, double* grad) {
    return ll_with(m, x_terms(m, x), std::log(m.alpha), x, t_x, T, grad);
}
double mbgnbd_loglik(const BgNbd& m, double x, double t_x, double T, double* grad) {
    return ll_with(m, x_terms(m, x, true), std::log(m.alpha), x, t_x, T, grad);
}
double mbgnbd_customer_loglik(const BgNbd& m, double x, double t_x, double T) {
    check_model(m);
    check_summary(x, t_x, T);
    return finite_or_fail(mbgnbd_loglik(m, x, t_x, T), "the MBG/NBD log-likelihood");
}

double bgnbd_customer_loglik(const BgNbd& m, double x, double t_x, double T) {
    check_model(m);
    check_summary(x, t_x, T);
    return finite_or_fail(bgnbd_loglik(m, x, t_x, T), "the BG/NBD log-likelihood");
}

double bgnbd_total_loglik(const BgNbd& m, const CountedSummary* data, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += data[i].count * bgnbd_loglik(m, data[i].x, data[i].t_x, data[i].T);
    return s;
}

namespace {

Fitted<BgNbd> fit_bg_family(const CountedSummary* data, std::size_t n, const Poll& poll, bool modified,
                            const char* name) {
    // Group by x so that the gamma-function terms are computed once per distinct frequency.
    const detail::SortedSummaries sorted = detail::sort_by_frequency(data, n, name);
    const std::vector<CountedSummary>& rows = sorted.rows;
    const double customers = sorted.customers, sum_T = sorted.sum_T;
    // Recency and age take few distinct values (whole days): log(alpha + v) once per distinct value.
    const detail::ValueIndex index = detail::index_values(rows);
    const bool indexed = index.used();
    std::vector<double> logs(index.values.size());
    detail::MeanNll nll = [&](const std::vector<double>& p, std::vector<double>& g) {
        BgNbd m{p[0], p[1], p[2], p[3]};
        const double la = std::log(m.alpha);
        for (std::size_t v = 0; v < logs.size(); ++v) logs[v] = std::log(m.alpha + index.values[v]);
        double total = 0, gt[4] = {0, 0, 0, 0}, gi[4];
        std::size_t i = 0;
        while (i < rows.size()) {
            if (poll) poll();
            const double x = rows[i].x;
            XTerms xt = x_terms(m, x, modified);
            for (; i < rows.size() && rows[i].x == x; ++i) {
                const CountedSummary& r = rows[i];
                const double l = indexed ? ll_logs(m, xt, la, x, r.t_x, r.T, logs[index.tx[i]], logs[index.T[i]], gi)
                                         : ll_with(m, xt, la, x, r.t_x, r.T, gi);
                total += r.count * l;
                for (int k = 0; k < 4; ++k) gt[k] += r.count * gi[k];
            }
        }
        for (int k = 0; k < 4; ++k) g[k] = -gt[k] / customers;
        return -total / customers;
    };
    const double mean_T = std::max(sum_T / customers, 1e-3);
    detail::LogFit f = detail::fit_log_params(nll, {{1, 1, 1, 1}, {0.5, mean_T / 4, 1, 2}, {1, mean_T, 0.5, 5}}, poll, {"r", "alpha", "a", "b"}, customers);
    Fitted<BgNbd> out{};
    out.status = detail::fit_status(f, customers, name, "Check the summaries for extreme values.");
    out.params = {f.params[0], f.params[1], f.params[2], f.params[3]};
    return out;
}

}  // namespace

Fitted<BgNbd> fit_bgnbd(const CountedSummary* data, std::size_t n, const Poll& poll) {
    return fit_bg_family(data, n, poll, false, "bgnbd_fit");
}
Fitted<BgNbd> fit_mbgnbd(const CountedSummary* data, std::size_t n, const Poll& poll) {
    return fit_bg_family(data, n, poll, true, "mbgnbd_fit");
}

namespace {
// 1 / (1 + a/(b+x-1+s) ((alpha+T)/(alpha+t_x))^(r+x)), in logs (s = 1 for the MBG/NBD).
double p_alive_bg(const BgNbd& m, double x, double t_x, double T, bool modified) {
    check_model(m);
    check_summary(x, t_x, T);
    if (x == 0 && !modified) return 1.0;
    const double s = modified ? 1.0 : 0.0;
    const double lr = std::log(m.a) - std::log(m.b + x - 1 + s) + (m.r + x) * (std::log(m.alpha + T) - std::log(m.alpha + t_x));
    return lr > 0 ? std::exp(-lr) / (1.0 + std::exp(-lr)) : 1.0 / (1.0 + std::exp(lr));
}
}  // namespace

double bgnbd_p_alive(const BgNbd& m, double x, double t_x, double T) { return p_alive_bg(m, x, t_x, T, false); }
double mbgnbd_p_alive(const BgNbd& m, double x, double t_x, double T) { return p_alive_bg(m, x, t_x, T, true); }

namespace {

// (a+b+x-1)/(a-1) * (1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))), the
// expected purchases in (T, T+t] of a customer alive at T. Needs a != 1.
double expected_if_alive(const BgNbd& m, double x, double T, double t) {
    const double A = m.r + x, B = m.b + x, C = m.a + m.b + x - 1;
    const double z = t / (m.alpha + T + t);
    const double log1mz = std::log(m.alpha + T) - std::log(m.alpha + T + t);
    double bracket;
    if (C > 0) {
        bracket = -std::expm1(A * log1mz + log_hyp2f1_positive(A, B, C, z));
    } else {
        // Only when x = 0 and a + b < 1: (C)_n < 0 for n >= 1, so sum the series directly (its
        // parameters are small then, nothing overflows).
        if (C == 0)
            fail(ErrorKind::out_of_range, "BG/NBD expected purchases are undefined for a + b = 1 and frequency 0",
                 "Use a fitted model; a + b = 1 exactly only happens with hand-made parameters.");
        if (!(z < 1)) too_long_horizon();
        double term = 1, sum = 1;
        bool done = false;
        for (long n = 0; n < 2000000 && !done; ++n) {
            term *= (A + n) * (B + n) / ((C + n) * (n + 1)) * z;
            sum += term;
            done = n > 10 && std::fabs(term) < 1e-17 * std::fabs(sum);
        }
        if (!done) too_long_horizon();
        bracket = 1.0 - std::exp(A * log1mz) * sum;
    }
    return C / (m.a - 1) * bracket;
}

}  // namespace

namespace {
// The MBG/NBD's conditional expectation is the BG/NBD's with b + 1 in the hypergeometric part
// (Batislam et al. 2007, eq. 9), times its own P(alive).
double expected_bg(const BgNbd& m, double x, double t_x, double T, double t, bool modified) {
    check_model(m);
    check_summary(x, t_x, T);
    if (!(t >= 0) || !std::isfinite(t))
        fail(ErrorKind::invalid_argument, "the horizon t must be a non-negative number of periods",
             "Pass e.g. 52 for a year in weeks.");
    if (t == 0) return 0;
    const double alive = p_alive_bg(m, x, t_x, T, modified);
    BgNbd h = m;
    if (modified) h.b += 1;
    double e;
    if (std::fabs(h.a - 1) < 1e-6) {
        // The formula is 0/0 at a = 1; it is smooth there, so average both sides.
        BgNbd lo = h, hi = h;
        lo.a = 1 - 1e-5;
        hi.a = 1 + 1e-5;
        e = 0.5 * (expected_if_alive(lo, x, T, t) + expected_if_alive(hi, x, T, t));
    } else {
        e = expected_if_alive(h, x, T, t);
    }
    return finite_or_fail(alive * e, "the expected purchases");
}

// P(X(t) = n) of a new customer (FHL 2005 eq. 8; the MBG/NBD with b + 1 in the drop-out terms and
// the drop-out term also for n = 0). The tail of the negative binomial, 1 - sum_{j<n} NB(j), is the
// regularised incomplete beta ibetac(r, n, alpha/(alpha+t)) (Boost), exact for any n.
double pmf_bg(const BgNbd& m, double t, double n, bool modified) {
    check_model(m);
    check_pmf_arguments(t, n);
    if (t == 0) return n == 0 ? 1.0 : 0.0;
    const double r = m.r, a = m.a, b = m.b, s = modified ? 1.0 : 0.0;
    auto lbeta = [](double p, double q) { return std::lgamma(p) + std::lgamma(q) - std::lgamma(p + q); };
    const double l_p = -std::log1p(t / m.alpha);  // log(alpha / (alpha + t))
    const double l_q = -std::log1p(m.alpha / t);  // log(t / (alpha + t))
    double first = lbeta(a, b + n + s) - lbeta(a, b) + r * l_p;
    if (n > 0) first += std::lgamma(r + n) - std::lgamma(r) - std::lgamma(n + 1) + n * l_q;
    double p = std::exp(first);
    if (n > 0 || modified) {
        const double tail = n > 0 ? ibetac(r, n, std::exp(l_p), boost_policy()) : 1.0;
        p += std::exp(lbeta(a + 1, b + n - 1 + s) - lbeta(a, b)) * tail;
    }
    return finite_or_fail(std::min(1.0, std::max(0.0, p)), "the probability of purchases");
}
}  // namespace

double bgnbd_expected_purchases(const BgNbd& m, double x, double t_x, double T, double t) {
    return expected_bg(m, x, t_x, T, t, false);
}
double mbgnbd_expected_purchases(const BgNbd& m, double x, double t_x, double T, double t) {
    return expected_bg(m, x, t_x, T, t, true);
}
double bgnbd_expected_purchases_new(const BgNbd& m, double t) { return expected_bg(m, 0, 0, 0, t, false); }
double mbgnbd_expected_purchases_new(const BgNbd& m, double t) { return expected_bg(m, 0, 0, 0, t, true); }
double bgnbd_probability_of_purchases(const BgNbd& m, double t, double n) { return pmf_bg(m, t, n, false); }
double mbgnbd_probability_of_purchases(const BgNbd& m, double t, double n) { return pmf_bg(m, t, n, true); }

double median_time_to_next_purchase(double r, double alpha, double x, double t_x) {
    const double p[2] = {r, alpha};
    check_parameters(p, 2, "BTYD", "r, alpha");
    check_summary(x, t_x, t_x);
    // +inf when beyond double range (r + x tiny): expected_next_order_at then says 'infinity'.
    return (alpha + t_x) * std::expm1(std::log(2.0) / (r + x));
}
double median_time_to_next_purchase(const BgNbd& m, double x, double t_x) {
    check_model(m);
    return median_time_to_next_purchase(m.r, m.alpha, x, t_x);
}

void check_clv_arguments(int months, double monthly_discount) {
    if (months < 0 || months > 1200)
        fail(ErrorKind::invalid_argument, "months must be between 0 and 1200", "Pass the CLV horizon in months, e.g. 12.");
    if (!(monthly_discount > -1) || !std::isfinite(monthly_discount))
        fail(ErrorKind::invalid_argument, "monthly_discount must be greater than -1",
             "Pass a monthly rate such as 0.01 (about 12.7% a year).");
}

namespace {
[[noreturn]] void too_long_horizon() {
    fail(ErrorKind::out_of_range, "the expected purchases cannot be computed for so long a horizon",
         "Use a horizon below 10,000 times (alpha + T) periods (e.g. 400,000 weeks for the CDNOW model), "
         "or the unconditional expected_purchases_new for the population.");
}
}  // namespace

double log_hyp2f1_positive(double a, double b, double c, double z, long max_terms) {
    if (!(a > 0 && b > 0 && c > 0 && z >= 0))
        fail(ErrorKind::internal, "log_hyp2f1_positive: parameters out of its domain");
    // z rounds to 1 for horizons beyond ~1e16 (alpha + T): the series cannot be summed there.
    if (!(z < 1)) too_long_horizon();
    // Terms t_{n+1} = t_n (a+n)(b+n) / ((c+n)(n+1)) z, all positive; keep sum and term scaled by
    // exp(-scale) so they stay representable.
    double term = 1, sum = 1, scale = 0;
    for (long n = 0; n < max_terms; ++n) {
        const double ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
        term *= ratio;
        sum += term;
        if (sum > 1e280) {
            sum *= 1e-280;
            term *= 1e-280;
            scale += 280 * std::log(10.0);
        }
        if (ratio < 1) {
            const double rho = std::max(ratio, z);
            if (term * rho / (1 - rho) <= 1e-17 * sum) return std::log(sum) + scale;
        }
    }
    too_long_horizon();
}

}  // namespace pgs::core::btyd
