// BG/BB (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a Discrete-Time Noncontractual
// Setting"): in each of n transaction opportunities (periods) a living customer buys with
// probability p ~ Beta(alpha, beta) and, at the start of each period, dies with probability
// theta ~ Beta(gamma, delta). Data per customer: x purchases in periods 1..n, the last in period t_x.
//   L = B(alpha+x, beta+n-x)/B(alpha,beta) B(gamma, delta+n)/B(gamma,delta)
//     + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha,beta) B(gamma+1, delta+t_x+i)/B(gamma,delta)
// summed in logs; the i-terms by the recurrence B(p, q+1) = B(p, q) q/(p+q) (and psi(z+1) = psi(z) + 1/z
// for the gradient), so a term costs two logs, not four lgammas.
#include <boost/math/special_functions/digamma.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../errors.h"
#include "fit_common.h"
#include "models.h"
#include "summary.h"

namespace pgs::core::btyd {

namespace {

using boost::math::digamma;

double lbeta(double p, double q) { return std::lgamma(p) + std::lgamma(q) - std::lgamma(p + q); }

void check_model(const BgBb& m) {
    const double p[4] = {m.alpha, m.beta, m.gamma, m.delta};
    check_parameters(p, 4, "bgbb", "alpha, beta, gamma, delta");
}

// log(e^a + e^b) without overflow.
double log_add(double a, double b) {
    if (a == -std::numeric_limits<double>::infinity()) return b;
    const double m = std::max(a, b);
    return m + std::log(std::exp(a - m) + std::exp(b - m));
}

// Log-likelihood with gradient (4, optional). base = lbeta(alpha, beta) + lbeta(gamma, delta), with
// its psi terms in d_base.
double ll(const BgBb& m, double x, double t_x, double n, double* grad) {
    const double a = m.alpha, b = m.beta, g = m.gamma, d = m.delta;
    const double base = lbeta(a, b) + lbeta(g, d);
    // Term 0: alive through n.
    double l0 = lbeta(a + x, b + n - x) + lbeta(g, d + n) - base;
    double acc = l0;
    // Gradients of each term's log, weighted by exp(term - acc) at the end: accumulate sums of
    // w * dlog in a running, rescaled way.
    double g0[4] = {0, 0, 0, 0};
    if (grad) {
        g0[0] = digamma(a + x) - digamma(a + b + n);
        g0[1] = digamma(b + n - x) - digamma(a + b + n);
        g0[2] = digamma(g) - digamma(g + d + n);
        g0[3] = digamma(d + n) - digamma(g + d + n);
    }
    double gs[4] = {g0[0], g0[1], g0[2], g0[3]};  // sum of w_i * grad_i with weights relative to acc
    double wsum = 1.0;
    const long terms = static_cast<long>(n - t_x);
    if (terms > 0) {
        double q1 = b + t_x - x, q2 = d + t_x;  // second arguments of the two betas of term i
        double lb1 = lbeta(a + x, q1), lb2 = lbeta(g + 1, q2);
        double psi_q1 = 0, psi_s1 = 0, psi_q2 = 0, psi_s2 = 0;
        if (grad) {
            psi_q1 = digamma(q1);
            psi_s1 = digamma(a + x + q1);
            psi_q2 = digamma(q2);
            psi_s2 = digamma(g + 1 + q2);
        }
        const double psi_ax = grad ? digamma(a + x) : 0, psi_g1 = grad ? digamma(g + 1) : 0;
        for (long i = 0; i < terms; ++i) {
            const double li = lb1 + lb2 - base;
            if (li > acc) {  // rescale what was accumulated
                const double f = std::exp(acc - li);
                wsum *= f;
                for (double& v : gs) v *= f;
                acc = li;
            }
            const double w = std::exp(li - acc);
            wsum += w;
            if (grad) {
                gs[0] += w * (psi_ax - psi_s1);
                gs[1] += w * (psi_q1 - psi_s1);
                gs[2] += w * (psi_g1 - psi_s2);
                gs[3] += w * (psi_q2 - psi_s2);
                psi_q1 += 1 / q1;
                psi_s1 += 1 / (a + x + q1);
                psi_q2 += 1 / q2;
                psi_s2 += 1 / (g + 1 + q2);
            }
            lb1 += std::log(q1 / (a + x + q1));
            lb2 += std::log(q2 / (g + 1 + q2));
            q1 += 1;
            q2 += 1;
        }
    }
    if (grad) {
        const double dab = digamma(a + b), dgd = digamma(g + d);
        // Each term's log also subtracts lbeta(alpha, beta) + lbeta(gamma, delta).
        grad[0] = gs[0] / wsum - (digamma(a) - dab);
        grad[1] = gs[1] / wsum - (digamma(b) - dab);
        grad[2] = gs[2] / wsum - (digamma(g) - dgd);
        grad[3] = gs[3] / wsum - (digamma(d) - dgd);
    }
    return acc + std::log(wsum);
}

// log of -expm1(D)/(gamma-1) where D = G(k1) - G(k0), G(k) = lgamma(1+delta+k) - lgamma(gamma+delta+k):
// the difference of the two Gamma ratios of FHS 2010 eq. 9 and 13 over (gamma - 1), with its limit
// psi(1+delta+k1) - psi(1+delta+k0) at gamma = 1.
double log_ratio_over_gamma_minus_1(const BgBb& m, double k0, double k1) {
    const double g = m.gamma, d = m.delta;
    if (std::fabs(g - 1) < 1e-8) return std::log(digamma(1 + d + k1) - digamma(1 + d + k0));
    const double D = (std::lgamma(1 + d + k1) - std::lgamma(g + d + k1)) - (std::lgamma(1 + d + k0) - std::lgamma(g + d + k0));
    return std::log(-std::expm1(D) / (g - 1));
}

}  // namespace

void check_periods(double x, double t_x, double n) {
    const char* hint =
        "A BG/BB summary is (frequency x, recency t_x, periods n): whole numbers with 0 <= x <= t_x <= n, "
        "t_x = 0 when x = 0, n at most 100000 (x purchases in periods 1..n, the last in period t_x).";
    if (!std::isfinite(x) || !std::isfinite(t_x) || !std::isfinite(n))
        fail(ErrorKind::invalid_argument, "BG/BB summary values must be finite", hint);
    if (x != std::floor(x) || t_x != std::floor(t_x) || n != std::floor(n))
        fail(ErrorKind::invalid_argument, "BG/BB frequency, recency and periods must be whole numbers", hint);
    if (!(x >= 0 && x <= t_x && t_x <= n && n <= 100000) || (x == 0 && t_x != 0) || (x > 0 && t_x < 1))
        fail(ErrorKind::invalid_argument, "invalid BG/BB summary: need 0 <= frequency <= recency <= periods <= 100000", hint);
}

double bgbb_loglik(const BgBb& m, double x, double t_x, double n, double* grad) { return ll(m, x, t_x, n, grad); }

double bgbb_customer_loglik(const BgBb& m, double x, double t_x, double n) {
    check_model(m);
    check_periods(x, t_x, n);
    return finite_or_fail(ll(m, x, t_x, n, nullptr), "the BG/BB log-likelihood");
}

Fitted<BgBb> fit_bgbb(const CountedSummary* data, std::size_t n, const Poll& poll) {
    std::vector<CountedSummary> rows(data, data + n);
    // Sorted by the whole key, so the fit does not depend on the rows' order (parallel == serial).
    std::sort(rows.begin(), rows.end(), [](const CountedSummary& a, const CountedSummary& b) {
        return a.x != b.x ? a.x < b.x : a.t_x != b.t_x ? a.t_x < b.t_x : a.T < b.T;
    });
    double customers = 0;
    for (const auto& r : rows) customers += r.count;
    if (!(customers > 0))
        fail(ErrorKind::invalid_argument, "bgbb_fit needs at least one customer", "Fit over a non-empty set of summaries.");
    detail::MeanNll nll = [&](const std::vector<double>& p, std::vector<double>& g) {
        BgBb m{p[0], p[1], p[2], p[3]};
        double total = 0, gt[4] = {0, 0, 0, 0}, gi[4];
        std::size_t since_poll = 0;
        for (const auto& r : rows) {
            if (++since_poll == 1024) {
                since_poll = 0;
                if (poll) poll();
            }
            total += r.count * ll(m, r.x, r.t_x, r.T, gi);
            for (int k = 0; k < 4; ++k) gt[k] += r.count * gi[k];
        }
        for (int k = 0; k < 4; ++k) g[k] = -gt[k] / customers;
        return -total / customers;
    };
    detail::LogFit f = detail::fit_log_params(nll, {{1, 1, 1, 1}, {0.5, 0.5, 0.5, 2}, {2, 1, 1, 5}}, poll,
                                              {"alpha", "beta", "gamma", "delta"}, customers);
    Fitted<BgBb> out{};
    out.status = detail::fit_status(f, customers, "bgbb_fit", "Check the summaries for extreme values.");
    out.params = {f.params[0], f.params[1], f.params[2], f.params[3]};
    return out;
}

// P(alive in period n+1 | x, t_x, n) (FHS 2010 eq. 11).
double bgbb_p_alive(const BgBb& m, double x, double t_x, double n) {
    check_model(m);
    check_periods(x, t_x, n);
    const double l = lbeta(m.alpha + x, m.beta + n - x) - lbeta(m.alpha, m.beta) + lbeta(m.gamma, m.delta + n + 1) -
                     lbeta(m.gamma, m.delta) - ll(m, x, t_x, n, nullptr);
    return finite_or_fail(std::min(1.0, std::exp(l)), "the probability of being alive");
}

// E[X(n, n+n*) | x, t_x, n] (FHS 2010 eq. 13): expected purchases in the next n* periods.
double bgbb_expected_purchases(const BgBb& m, double x, double t_x, double n, double horizon) {
    check_model(m);
    check_periods(x, t_x, n);
    if (!(horizon >= 0 && horizon <= 1e9))
        fail(ErrorKind::invalid_argument, "the horizon must be between 0 and 1e9 periods",
             "Pass the number of future transaction opportunities, e.g. 5.");
    if (horizon == 0) return 0;
    const double l = lbeta(m.alpha + x + 1, m.beta + n - x) - lbeta(m.alpha, m.beta) - ll(m, x, t_x, n, nullptr) +
                     std::log(m.delta) + std::lgamma(m.gamma + m.delta) - std::lgamma(1 + m.delta) +
                     std::lgamma(1 + m.delta + n) - std::lgamma(m.gamma + m.delta + n) +
                     log_ratio_over_gamma_minus_1(m, n, n + horizon);
    return finite_or_fail(std::exp(l), "the expected purchases");
}

// E[X(n)] for a new customer (FHS 2010 eq. 9).
double bgbb_expected_purchases_new(const BgBb& m, double n) {
    check_model(m);
    if (!(n >= 0 && n <= 1e9))
        fail(ErrorKind::invalid_argument, "the number of periods must be between 0 and 1e9",
             "Pass the number of transaction opportunities, e.g. 6.");
    if (n == 0) return 0;
    const double l = std::log(m.alpha / (m.alpha + m.beta)) + std::log(m.delta) + log_ratio_over_gamma_minus_1(m, 0, n);
    return finite_or_fail(std::exp(l), "the expected purchases");
}

// P(X(n) = x) for a new customer (FHS 2010 eq. 7).
double bgbb_probability_of_purchases(const BgBb& m, double n, double x) {
    check_model(m);
    check_count(x, "the number of purchases");
    if (!(n >= 0 && n <= 100000 && n == std::floor(n)))
        fail(ErrorKind::invalid_argument, "the number of periods must be a whole number between 0 and 100000",
             "Pass the number of transaction opportunities, e.g. 6.");
    if (x > n) return 0;
    const double a = m.alpha, b = m.beta, g = m.gamma, d = m.delta;
    const double base = lbeta(a, b) + lbeta(g, d);
    auto lchoose = [](double k, double j) { return std::lgamma(k + 1) - std::lgamma(j + 1) - std::lgamma(k - j + 1); };
    double acc = lchoose(n, x) + lbeta(a + x, b + n - x) + lbeta(g, d + n) - base;
    // i = x .. n-1: C(i, x) B(a+x, b+i-x) B(g+1, d+i), by recurrences in i.
    double lc = 0, lb1 = lbeta(a + x, b), lb2 = lbeta(g + 1, d + x);
    for (double i = x; i < n; ++i) {
        acc = log_add(acc, lc + lb1 + lb2 - base);
        lc += std::log((i + 1) / (i + 1 - x));
        lb1 += std::log((b + i - x) / (a + b + i));
        lb2 += std::log((d + i) / (g + 1 + d + i));
    }
    return finite_or_fail(std::min(1.0, std::exp(acc)), "the probability of purchases");
}

}  // namespace pgs::core::btyd
