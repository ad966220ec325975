// Pareto/NBD. Individual likelihood (Fader & Hardie 2005 note, eq. 2 before the 2F1 closed form):
//   L = Gamma(r+x) alpha^r beta^s / Gamma(r)
//       * [ (alpha+T)^-(r+x) (beta+T)^-s + s * I ],  I = int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy
// The published closed form writes s*I as a difference of two Gauss hypergeometric 2F1 terms, which
// overflows for large x and cancels when t_x is close to T. We integrate instead: the integrand is
// positive and log-concave in u = log(c + y), c = min(alpha, beta), so a composite 10-point
// Gauss-Legendre rule (Boost.Math nodes) on panels over which its log changes by about 4 at most
// (widths from the local slope and curvature), stopped once the remaining tail is below 1e-16 of
// the sum, gives I in log space to ~1e-12 relative, and the same
// nodes give the analytic gradient (derivatives under the integral sign).
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
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
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

struct Tail {
    double log_i = kNegInf;  // log I (without the factor s)
    // Means of log(alpha+y), 1/(alpha+y), log(beta+y), 1/(beta+y) under the integrand.
    double m_la = 0, m_ia = 0, m_lb = 0, m_ib = 0;
};

Tail tail_integral(const ParetoNbd& m, double x, double t_x, double T, bool want_grad) {
    Tail out;
    if (!(T > t_x)) return out;
    using GL = boost::math::quadrature::gauss<double, 10>;
    const auto& nodes = GL::abscissa();
    const auto& weights = GL::weights();
    const double p = m.r + x, q = m.s + 1;
    const double c = std::min(m.alpha, m.beta);
    const double da = m.alpha - c, db = m.beta - c;  // one of them is 0
    const double ua = std::log(c + t_x), ub = std::log(c + T);
    // l(u) = -p log(da + e^u) - q log(db + e^u) + u, its slope and |curvature|, with one exp.
    struct Local {
        double l, slope, curv;
    };
    auto local = [&](double u) {
        const double eu = std::exp(u);
        const double fa = eu / (da + eu), fb = eu / (db + eu);
        const double la = da == 0 ? u : std::log(da + eu), lb = db == 0 ? u : std::log(db + eu);
        return Local{-p * la - q * lb + u, 1 - p * fa - q * fb, p * fa * (1 - fa) + q * fb * (1 - fb)};
    };
    // Panel width: l changes by at most ~4 over a panel (10-point Gauss-Legendre then integrates
    // e^l to ~1e-12 relative), from the slope and curvature at its start; l is concave, so |l'| grows
    // along a decreasing stretch: checked again at the panel's end.
    auto width = [](const Local& at) {
        const double sl = std::fabs(at.slope);
        double h = 8.0;
        if (sl * h > 4) h = 4 / sl;
        if (at.curv * h * h > 8) h = std::sqrt(8 / at.curv);
        return h;
    };
    Local here = local(ua);
    const double ref = here.l;
    double s0 = 0, sla = 0, sia = 0, slb = 0, sib = 0;
    double u0 = ua;
    for (int panel = 0; u0 < ub && panel < 100000; ++panel) {
        double h = width(here);
        if (u0 + h < ub) h = std::min(h, width(local(u0 + h)));
        const double u1 = std::min(ub, u0 + h);
        const double mid = 0.5 * (u0 + u1), half = 0.5 * (u1 - u0);
        for (std::size_t k = 0; k < nodes.size(); ++k) {
            for (int sign = -1; sign <= 1; sign += 2) {
                const double u = mid + sign * half * nodes[k];
                const double eu = std::exp(u);
                const double la = da == 0 ? u : std::log(da + eu), lb = db == 0 ? u : std::log(db + eu);
                const double w = weights[k] * half * std::exp(-p * la - q * lb + u - ref);
                s0 += w;
                if (want_grad) {
                    sla += w * la;
                    sia += w / (da + eu);
                    slb += w * lb;
                    sib += w / (db + eu);
                }
            }
        }
        u0 = u1;
        if (u0 < ub) {
            // Concave: past the maximum the rest is at most e^l(u0) / |l'(u0)|.
            here = local(u0);
            if (here.slope < 0 && std::exp(here.l - ref) / -here.slope <= 1e-16 * s0) break;
        }
    }
    out.log_i = ref + std::log(s0);
    if (want_grad) {
        out.m_la = sla / s0;
        out.m_ia = sia / s0;
        out.m_lb = slb / s0;
        out.m_ib = sib / s0;
    }
    return out;
}

struct Parts {
    double ll;       // log-likelihood
    double w_alive;  // A / (A + s I): the probability of being alive at T
};

// xt_lg = lgamma(r+x) - lgamma(r), xt_dr = psi(r+x) - psi(r).
Parts evaluate(const ParetoNbd& m, double xt_lg, double xt_dr, double x, double t_x, double T, double* grad) {
    const double p = m.r + x;
    const double lTa = std::log(m.alpha + T), lTb = std::log(m.beta + T);
    const double lA = -p * lTa - m.s * lTb;
    Tail tail = tail_integral(m, x, t_x, T, grad != nullptr);
    const double lI = tail.log_i == kNegInf ? kNegInf : std::log(m.s) + tail.log_i;
    const double M = std::max(lA, lI);
    const double eA = std::exp(lA - M), eI = lI == kNegInf ? 0.0 : std::exp(lI - M);
    const double D = eA + eI;
    const double wA = eA / D, wI = eI / D;
    const double log_alpha = std::log(m.alpha), log_beta = std::log(m.beta);
    Parts out;
    out.ll = xt_lg + m.r * log_alpha + m.s * log_beta + M + std::log(D);
    out.w_alive = wA;
    if (grad) {
        grad[0] = xt_dr + log_alpha - wA * lTa - wI * tail.m_la;
        grad[1] = m.r / m.alpha - wA * p / (m.alpha + T) - wI * p * tail.m_ia;
        grad[2] = log_beta - wA * lTb + wI * (1.0 / m.s - tail.m_lb);
        grad[3] = m.s / m.beta - wA * m.s / (m.beta + T) - wI * (m.s + 1) * tail.m_ib;
    }
    return out;
}

void check_model(const ParetoNbd& m) {
    const double p[4] = {m.r, m.alpha, m.s, m.beta};
    check_parameters(p, 4, "paretonbd", "r, alpha, s, beta");
}

}  // namespace

double paretonbd_log_tail_integral(const ParetoNbd& m, double x, double t_x, double T) {
    Tail t = tail_integral(m, x, t_x, T, false);
    return t.log_i == kNegInf ? kNegInf : std::log(m.s) + t.log_i;
}

double paretonbd_loglik(const ParetoNbd& m, double x, double t_x, double T, double* grad) {
    const double lg = std::lgamma(m.r + x) - std::lgamma(m.r);
    const double dr = x > 0 ? digamma(m.r + x) - digamma(m.r) : 0.0;
    return evaluate(m, lg, dr, x, t_x, T, grad).ll;
}

double paretonbd_customer_loglik(const ParetoNbd& m, double x, double t_x, double T) {
    check_model(m);
    check_summary(x, t_x, T);
    return finite_or_fail(paretonbd_loglik(m, x, t_x, T), "the Pareto/NBD log-likelihood");
}

double paretonbd_total_loglik(const ParetoNbd& m, const CountedSummary* data, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += data[i].count * paretonbd_loglik(m, data[i].x, data[i].t_x, data[i].T);
    return s;
}

Fitted<ParetoNbd> fit_paretonbd(const CountedSummary* data, std::size_t n, const Poll& poll) {
    const detail::SortedSummaries sorted = detail::sort_by_frequency(data, n, "paretonbd_fit");
    const std::vector<CountedSummary>& rows = sorted.rows;
    const double customers = sorted.customers, sum_T = sorted.sum_T;
    detail::MeanNll nll = [&](const std::vector<double>& p, std::vector<double>& g) {
        ParetoNbd m{p[0], p[1], p[2], p[3]};
        double total = 0, gt[4] = {0, 0, 0, 0}, gi[4];
        std::size_t i = 0, since_poll = 0;
        while (i < rows.size()) {
            const double x = rows[i].x;
            const double lg = std::lgamma(m.r + x) - std::lgamma(m.r);
            const double dr = x > 0 ? digamma(m.r + x) - digamma(m.r) : 0.0;
            for (; i < rows.size() && rows[i].x == x; ++i) {
                if (++since_poll == 4096) {
                    since_poll = 0;
                    if (poll) poll();
                }
                const CountedSummary& r = rows[i];
                total += r.count * evaluate(m, lg, dr, x, r.t_x, r.T, gi).ll;
                for (int k = 0; k < 4; ++k) gt[k] += r.count * gi[k];
            }
        }
        for (int k = 0; k < 4; ++k) g[k] = -gt[k] / customers;
        return -total / customers;
    };
    const double mean_T = std::max(sum_T / customers, 1e-3);
    detail::LogFit f = detail::fit_log_params(nll, {{1, 1, 1, 1}, {0.5, mean_T / 4, 0.5, mean_T / 4}}, poll, {"r", "alpha", "s", "beta"}, customers);
    Fitted<ParetoNbd> out{};
    out.status = detail::fit_status(f, customers, "paretonbd_fit", "Check the summaries for extreme values.");
    out.params = {f.params[0], f.params[1], f.params[2], f.params[3]};
    return out;
}

double median_time_to_next_purchase(const ParetoNbd& m, double x, double t_x) {
    check_model(m);
    return median_time_to_next_purchase(m.r, m.alpha, x, t_x);
}

double paretonbd_p_alive(const ParetoNbd& m, double x, double t_x, double T) {
    check_model(m);
    check_summary(x, t_x, T);
    return finite_or_fail(evaluate(m, 0, 0, x, t_x, T, nullptr).w_alive, "the probability of being alive");
}

double paretonbd_expected_purchases(const ParetoNbd& m, double x, double t_x, double T, double t) {
    check_model(m);
    check_summary(x, t_x, T);
    if (!(t >= 0) || !std::isfinite(t))
        fail(ErrorKind::invalid_argument, "the horizon t must be a non-negative number of periods",
             "Pass e.g. 52 for a year in weeks.");
    if (t == 0) return 0;
    // (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)] * P(alive); the bracket
    // over (s-1) is -expm1(-(s-1) log1p(t/(beta+T))) / (s-1), which tends to log1p(...) at s = 1.
    const double l = std::log1p(t / (m.beta + T));
    const double sm1 = m.s - 1;
    const double frac = std::fabs(sm1) < 1e-10 ? l : -std::expm1(-sm1 * l) / sm1;
    const double alive = paretonbd_p_alive(m, x, t_x, T);
    return finite_or_fail((m.r + x) * ((m.beta + T) / (m.alpha + T)) * frac * alive, "the expected purchases");
}

}  // namespace pgs::core::btyd

namespace pgs::core::btyd {

double paretonbd_expected_purchases_new(const ParetoNbd& m, double t) { return paretonbd_expected_purchases(m, 0, 0, 0, t); }

// P(X(t) = n) of a new customer: alive through t with n purchases, or dead at tau < t after n:
//   NB(n; t) (beta/(beta+t))^s + int_0^t s beta^s (beta+tau)^-(s+1) NB(n; tau) dtau,
// NB(n; tau) = Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^n. In u = log tau
// the integrand is log-concave (its log's slope n + 1 - (r+n) tau/(alpha+tau) - (s+1) tau/(beta+tau)
// decreases), so Boost's adaptive Gauss-Kronrod on both sides of its mode is accurate to ~1e-12.
double paretonbd_probability_of_purchases(const ParetoNbd& m, double t, double n) {
    check_model(m);
    check_pmf_arguments(t, n);
    if (t == 0) return n == 0 ? 1.0 : 0.0;
    const double r = m.r, al = m.alpha, s = m.s, be = m.beta;
    const double lc = std::lgamma(r + n) - std::lgamma(r) - std::lgamma(n + 1);
    auto log_nb = [&](double tau) {
        return lc - r * std::log1p(tau / al) + (n > 0 ? -n * std::log1p(al / tau) : 0.0);
    };
    double p = std::exp(log_nb(t) - s * std::log1p(t / be));
    // Mode of the integrand in u = log tau: the root of its decreasing log-slope.
    auto slope = [&](double u) {
        const double tau = std::exp(u);
        return n + 1 - (r + n) * tau / (al + tau) - (s + 1) * tau / (be + tau);
    };
    double lo = -60 + std::log(std::min(al, be)), hi = 60 + std::log(std::max(al, be));
    for (int i = 0; i < 200 && hi - lo > 1e-9; ++i) {
        const double mid = 0.5 * (lo + hi);
        (slope(mid) > 0 ? lo : hi) = mid;
    }
    const double ut = std::log(t), mode = std::min(0.5 * (lo + hi), ut);
    auto log_h = [&](double u) {
        const double tau = std::exp(u);
        return std::log(s) + s * std::log(be) - (s + 1) * std::log(be + tau) + log_nb(tau) + u;
    };
    const double ref = log_h(mode);
    auto h = [&](double u) { return std::exp(log_h(u) - ref); };
    using GK = boost::math::quadrature::gauss_kronrod<double, 61>;
    // Below mode - 45 the integrand is under e^-45 of its peak (it rises at least like e^u).
    double integral = GK::integrate(h, mode - 45, mode, 15, 1e-13);
    if (ut > mode) integral += GK::integrate(h, mode, ut, 15, 1e-13);
    p += std::exp(ref + std::log(integral));
    return finite_or_fail(std::min(1.0, std::max(0.0, p)), "the probability of purchases");
}

}  // namespace pgs::core::btyd
