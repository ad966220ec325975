// Shared by the three fits: maximum likelihood over log-parameters with the bounded L-BFGS, from
// several starting points, keeping the best; once two runs converged to the same value the
// remaining starts are skipped. Internal to src/core/btyd.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "../errors.h"
#include "lbfgs.h"
#include "models.h"

namespace pgs::core::btyd::detail {

// Mean negative log-likelihood at params (natural scale); fills grad with its derivatives with
// respect to the natural parameters.
using MeanNll = std::function<double(const std::vector<double>& params, std::vector<double>& grad)>;

struct LogFit {
    std::vector<double> params;
    double mean_nll = std::numeric_limits<double>::infinity();
    bool converged = false;
    int iterations = 0;
    std::string reason;
    std::vector<double> std_errors;
};

// The summaries sorted by frequency (so terms that depend on x alone are computed once per distinct
// x), with the number of customers and the sum of their ages; throws when there is no customer.
// Ties are broken by the whole key, so the fit does not depend on the order the rows came in (a
// parallel fit, or one merged from shards' states, gives the bit-identical model).
struct SortedSummaries {
    std::vector<CountedSummary> rows;
    double customers = 0;
    double sum_T = 0;
};
inline SortedSummaries sort_by_frequency(const CountedSummary* data, std::size_t n, const char* fit_name) {
    SortedSummaries out;
    out.rows.assign(data, data + n);
    std::sort(out.rows.begin(), out.rows.end(),
              [](const CountedSummary& a, const CountedSummary& b) {
                  return a.x != b.x ? a.x < b.x : a.t_x != b.t_x ? a.t_x < b.t_x : a.T < b.T;
              });
    for (const auto& r : out.rows) {
        out.customers += r.count;
        out.sum_T += r.count * r.T;
    }
    if (!(out.customers > 0))
        fail(ErrorKind::invalid_argument, fmt::format("{} needs at least one customer", fit_name),
             "Fit over a non-empty set of summaries.");
    return out;
}

// The distinct recencies and ages of the rows (few: whole days) and each row's index into them, so
// that an evaluation computes the logs of alpha + v once per distinct value instead of per summary.
// Empty (used() false) when there are more distinct values than rows: the table would cost more
// than it saves.
struct ValueIndex {
    std::vector<double> values;
    std::vector<std::uint32_t> tx, T;
    bool used() const { return !values.empty(); }
};
inline ValueIndex index_values(const std::vector<CountedSummary>& rows) {
    ValueIndex out;
    std::vector<double> values;
    values.reserve(2 * rows.size());
    for (const auto& r : rows) {
        values.push_back(r.t_x);
        values.push_back(r.T);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (values.size() > rows.size()) return out;
    out.values = std::move(values);
    out.tx.resize(rows.size());
    out.T.resize(rows.size());
    auto at = [&](double v) {
        return static_cast<std::uint32_t>(std::lower_bound(out.values.begin(), out.values.end(), v) - out.values.begin());
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out.tx[i] = at(rows[i].t_x);
        out.T[i] = at(rows[i].T);
    }
    return out;
}

// The search box of theta = log(param): [log 1e-8, log 1e8].
constexpr double kLowerBound = 1e-8, kUpperBound = 1e8;

// Is the best point an interior, identified maximum? Filled by fit_log_params from the gradient and
// a Hessian of the mean negative log-likelihood in theta, the latter by central differences of the
// analytic gradient (step 1e-4 in theta: truncation ~1e-8, rounding ~1e-12 relative).
struct Identification {
    bool ok = false;
    std::string reason;
    std::vector<double> std_errors;  // natural scale, NaN when the Hessian is not positive definite
};

// Cholesky factor of a symmetric k x k matrix (row-major); false unless positive definite with a
// smallest pivot above `floor`.
inline bool cholesky(std::vector<double>& a, std::size_t k, double floor) {
    for (std::size_t j = 0; j < k; ++j) {
        double d = a[j * k + j];
        for (std::size_t m = 0; m < j; ++m) d -= a[j * k + m] * a[j * k + m];
        if (!(d > floor)) return false;
        d = std::sqrt(d);
        a[j * k + j] = d;
        for (std::size_t i = j + 1; i < k; ++i) {
            double v = a[i * k + j];
            for (std::size_t m = 0; m < j; ++m) v -= a[i * k + m] * a[j * k + m];
            a[i * k + j] = v / d;
        }
    }
    return true;
}

// Diagonal of the inverse of L L' (L from cholesky()).
inline std::vector<double> inverse_diagonal(const std::vector<double>& l, std::size_t k) {
    std::vector<double> diag(k, 0.0), e(k);
    for (std::size_t c = 0; c < k; ++c) {
        // Solve L y = e_c; then (L L')^-1_cc = |y|^2.
        for (std::size_t i = 0; i < k; ++i) {
            double v = i == c ? 1.0 : 0.0;
            for (std::size_t m = 0; m < i; ++m) v -= l[i * k + m] * e[m];
            e[i] = v / l[i * k + i];
        }
        for (std::size_t i = 0; i < k; ++i) diag[c] += e[i] * e[i];
    }
    return diag;
}

// Thresholds of the honest `converged`, measured on the cases of issue 13 (docs/predictive.md):
// identified CDNOW fits have standard errors of log(param) of 0.05-0.3; the unidentified ones 7 and
// more (or a Hessian that is not positive definite at all).
constexpr double kNearBound = 2.302585092994046;  // log 10: within a factor 10 of the box's edge
constexpr double kMaxGradient = 1e-5;             // inf-norm, mean NLL per customer, in theta
constexpr double kMaxLogStdError = 3.0;           // a 95% interval wider than a factor e^6 = 400

inline Identification identify(const Objective& obj, const std::vector<double>& params, double customers,
                               const std::vector<const char*>& names) {
    const std::size_t k = params.size();
    Identification out;
    out.std_errors.assign(k, std::numeric_limits<double>::quiet_NaN());
    std::vector<double> theta(k), g(k), gp(k), gm(k), h(k * k);
    for (std::size_t i = 0; i < k; ++i) theta[i] = std::log(params[i]);
    obj(theta, g);
    const double step = 1e-4;
    for (std::size_t i = 0; i < k; ++i) {
        std::vector<double> tp = theta, tm = theta;
        tp[i] += step;
        tm[i] -= step;
        obj(tp, gp);
        obj(tm, gm);
        for (std::size_t j = 0; j < k; ++j) h[i * k + j] = (gp[j] - gm[j]) / (2 * step);
    }
    bool finite = true;
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < i; ++j) h[i * k + j] = h[j * k + i] = 0.5 * (h[i * k + j] + h[j * k + i]);
    for (double v : h) finite = finite && std::isfinite(v);
    // Observed information of the total -LL in theta.
    std::vector<double> info(h);
    for (double& v : info) v *= customers;
    std::vector<double> l = info;
    double scale = 0;
    for (std::size_t i = 0; i < k; ++i) scale = std::max(scale, std::fabs(info[i * k + i]));
    const bool pd = finite && cholesky(l, k, 1e-12 * std::max(scale, 1e-300));
    std::vector<double> log_se(k, std::numeric_limits<double>::infinity());
    if (pd) {
        const std::vector<double> var = inverse_diagonal(l, k);
        for (std::size_t i = 0; i < k; ++i) {
            log_se[i] = std::sqrt(var[i]);
            out.std_errors[i] = params[i] * log_se[i];  // delta method: exact at a stationary point
        }
    }
    for (std::size_t i = 0; i < k; ++i) {
        if (theta[i] <= std::log(kLowerBound) + kNearBound || theta[i] >= std::log(kUpperBound) - kNearBound) {
            out.reason = fmt::format("parameter {} = {:.3g} ran to the edge of the search range (1e-8, 1e8): the data "
                                     "do not identify the model",
                                     names[i], params[i]);
            return out;
        }
    }
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::fabs(v));
    if (!(gmax <= kMaxGradient)) {
        out.reason = fmt::format("the gradient is not small at the best point found ({:.3g} per customer)", gmax);
        return out;
    }
    if (!pd) {
        out.reason = "the Hessian is not positive definite at the best point: the likelihood is flat in some "
                     "direction, the data do not identify the model";
        return out;
    }
    for (std::size_t i = 0; i < k; ++i) {
        if (!(log_se[i] <= kMaxLogStdError)) {
            out.reason = fmt::format(
                "parameter {0} is not identified by the data (standard error of log {0} = {1:.3g})", names[i], log_se[i]);
            return out;
        }
    }
    out.ok = true;
    out.reason = "converged";
    return out;
}

// Maximum likelihood over theta = log(param) within the search box, from several starts, keeping the
// best; then the identification check above decides `converged`.
inline LogFit fit_log_params(const MeanNll& nll, const std::vector<std::vector<double>>& starts, const Poll& poll,
                             const std::vector<const char*>& names, double customers) {
    const std::size_t k = starts.front().size();
    const std::vector<double> lower(k, std::log(kLowerBound)), upper(k, std::log(kUpperBound));
    Objective obj = [&](const std::vector<double>& theta, std::vector<double>& g) {
        std::vector<double> p(k), gp(k);
        for (std::size_t i = 0; i < k; ++i) p[i] = std::exp(theta[i]);
        double v = nll(p, gp);
        for (std::size_t i = 0; i < k; ++i) g[i] = gp[i] * p[i];
        return v;
    };
    LogFit best;
    int total_iterations = 0;
    int converged_runs = 0;
    double first_converged = 0;
    for (const auto& s : starts) {
        // Two runs from different starts that converge to the same value: enough evidence.
        if (converged_runs >= 2) break;
        std::vector<double> theta0(k);
        for (std::size_t i = 0; i < k; ++i) theta0[i] = std::log(s[i]);
        LbfgsResult r = minimize_lbfgsb(obj, theta0, lower, upper, LbfgsOptions{}, poll);
        total_iterations += r.iterations;
        if (r.converged && std::isfinite(r.value)) {
            if (converged_runs == 0 || std::fabs(r.value - first_converged) <= 1e-9 * std::max(1.0, std::fabs(r.value)))
                ++converged_runs;
            if (converged_runs == 1) first_converged = r.value;
        }
        bool better = std::isfinite(r.value) &&
                      (!std::isfinite(best.mean_nll) || r.value < best.mean_nll - 1e-12 ||
                       (r.converged && !best.converged && r.value <= best.mean_nll + 1e-9));
        if (better) {
            best.params.resize(k);
            for (std::size_t i = 0; i < k; ++i) best.params[i] = std::exp(r.x[i]);
            best.mean_nll = r.value;
            best.converged = r.converged;
            best.reason = r.reason;
        }
    }
    best.iterations = total_iterations;
    if (best.params.empty()) return best;
    if (poll) poll();
    Identification id = identify(obj, best.params, customers, names);
    best.std_errors = id.std_errors;
    if (!best.converged) {
        best.reason = fmt::format("the optimiser stopped before converging: {}", best.reason);
    } else {
        best.converged = id.ok;
        best.reason = id.reason;
    }
    return best;
}

// The status of a finished fit over `customers`; throws when no starting point gave a finite
// likelihood (then there are no parameters to report).
inline FitStatus fit_status(const LogFit& f, double customers, const char* fit_name, const char* hint) {
    if (f.params.empty())
        fail(ErrorKind::out_of_range, fmt::format("{}: the likelihood is not finite at any starting point", fit_name),
             hint);
    FitStatus status;
    status.log_likelihood = -f.mean_nll * customers;
    status.customers = customers;
    status.converged = f.converged;
    status.iterations = f.iterations;
    status.reason = f.reason;
    status.std_errors = f.std_errors;
    const double k = static_cast<double>(f.params.size());
    status.aic = 2 * k - 2 * status.log_likelihood;
    status.bic = k * std::log(customers) - 2 * status.log_likelihood;
    return status;
}

}  // namespace pgs::core::btyd::detail
