// Gamma-Gamma spend model (Fader, Hardie & Lee 2005b; Colombo & Jiang 1999). For a repeat buyer
// with x repeat purchases of mean value mbar:
//   log f = lgamma(px+q) - lgamma(px) - lgamma(q) + q log(gamma) + (px-1) log(mbar) + px log(x)
//           - (px+q) log(x mbar + gamma)
// as in lifetimes' GammaGammaFitter; customers with x = 0 carry no spend information and are skipped.
#include <boost/math/special_functions/digamma.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../errors.h"
#include "fit_common.h"
#include "models.h"
#include "summary.h"

namespace pgs::core::btyd {

namespace {
using boost::math::digamma;

struct XTerms {
    double lg, d_pxq, d_px, logx;
};

XTerms x_terms(const GammaGamma& m, double x) {
    const double px = m.p * x;
    return {std::lgamma(px + m.q) - std::lgamma(px), digamma(px + m.q), digamma(px), std::log(x)};
}

inline double ll_with(const GammaGamma& m, const XTerms& t, double lgq, double dq, double x, double mbar,
                      double* grad) {
    const double px = m.p * x, lm = std::log(mbar), lxv = std::log(x * mbar + m.gamma), lv = std::log(m.gamma);
    const double ll = t.lg - lgq + m.q * lv + (px - 1) * lm + px * t.logx - (px + m.q) * lxv;
    if (grad) {
        grad[0] = x * (t.d_pxq - t.d_px + lm + t.logx - lxv);
        grad[1] = t.d_pxq - dq + lv - lxv;
        grad[2] = m.q / m.gamma - (px + m.q) / (x * mbar + m.gamma);
    }
    return ll;
}
}  // namespace

double gammagamma_loglik(const GammaGamma& m, double x, double mbar, double* grad) {
    check_monetary(x, mbar);
    if (x == 0) {
        if (grad) grad[0] = grad[1] = grad[2] = 0;
        return 0;
    }
    return ll_with(m, x_terms(m, x), std::lgamma(m.q), digamma(m.q), x, mbar, grad);
}

double gammagamma_total_loglik(const GammaGamma& m, const CountedSpend* data, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (data[i].x > 0) s += data[i].count * gammagamma_loglik(m, data[i].x, data[i].m);
    return s;
}

Fitted<GammaGamma> fit_gammagamma(const CountedSpend* data, std::size_t n, const Poll& poll) {
    std::vector<CountedSpend> rows;
    rows.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (data[i].x > 0) rows.push_back(data[i]);
    // Sorted by the whole key before any sum, so the fit does not depend on the rows' order (a
    // parallel fit, or one merged from shards' states, gives the bit-identical model).
    std::sort(rows.begin(), rows.end(),
              [](const CountedSpend& a, const CountedSpend& b) { return a.x != b.x ? a.x < b.x : a.m < b.m; });
    double customers = 0, sum_m = 0;
    for (const auto& r : rows) {
        customers += r.count;
        sum_m += r.count * r.m;
    }
    if (!(customers > 0))
        fail(ErrorKind::invalid_argument, "gammagamma_fit needs at least one repeat buyer (frequency > 0)",
             "The spend model is fitted on customers with repeat purchases; check the frequency column.");
    detail::MeanNll nll = [&](const std::vector<double>& p, std::vector<double>& g) {
        GammaGamma m{p[0], p[1], p[2]};
        const double lgq = std::lgamma(m.q), dq = digamma(m.q);
        double total = 0, gt[3] = {0, 0, 0}, gi[3];
        std::size_t i = 0;
        while (i < rows.size()) {
            if (poll) poll();
            const double x = rows[i].x;
            XTerms t = x_terms(m, x);
            for (; i < rows.size() && rows[i].x == x; ++i) {
                total += rows[i].count * ll_with(m, t, lgq, dq, x, rows[i].m, gi);
                for (int k = 0; k < 3; ++k) gt[k] += rows[i].count * gi[k];
            }
        }
        for (int k = 0; k < 3; ++k) g[k] = -gt[k] / customers;
        return -total / customers;
    };
    const double mean_m = std::max(sum_m / customers, 1e-6);
    detail::LogFit f = detail::fit_log_params(nll, {{1, 1, 1}, {2, 2, mean_m}, {5, 3, mean_m / 2}}, poll, {"p", "q", "gamma"}, customers);
    Fitted<GammaGamma> out{};
    out.status = detail::fit_status(f, customers, "gammagamma_fit", "Check the monetary values for extreme values.");
    out.params = {f.params[0], f.params[1], f.params[2]};
    return out;
}

double gammagamma_expected_spend(const GammaGamma& m, double x, double mbar) {
    const double params[3] = {m.p, m.q, m.gamma};
    check_parameters(params, 3, "gammagamma", "p, q, gamma");
    if (!(m.q > 1))
        fail(ErrorKind::out_of_range, "the expected spend is infinite for a Gamma-Gamma model with q <= 1",
             "The fitted spend distribution has no mean; check the monetary values for outliers.");
    if (x == 0) mbar = 0;  // no repeat purchase: the population mean p gamma / (q - 1)
    check_monetary(x, mbar);
    // p (gamma + x mbar) / (p x + q - 1), as two weights that cannot overflow for a huge mbar.
    const double d = m.p * x + m.q - 1;
    return finite_or_fail(m.p / d * m.gamma + (m.p * x / d) * mbar, "the expected spend");
}

}  // namespace pgs::core::btyd
