// Shared by the three fits: maximum likelihood over log-parameters with the bounded L-BFGS, from
// several starting points, keeping the best; once two runs converged to the same value the
// remaining starts are skipped. Internal to src/core/btyd.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

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
        fail(ErrorKind::invalid_argument, std::string(fit_name) + " needs at least one customer",
             "Fit over a non-empty set of summaries.");
    return out;
}

// Parameters are searched as theta = log(param) within [log 1e-8, log 1e8].
inline LogFit fit_log_params(const MeanNll& nll, const std::vector<std::vector<double>>& starts, const Poll& poll) {
    const std::size_t k = starts.front().size();
    const std::vector<double> lower(k, std::log(1e-8)), upper(k, std::log(1e8));
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
    // A maximum on the edge of the search box means the data do not identify the model (e.g. no
    // repeat purchase at all): report it as not converged.
    for (double v : best.params) {
        const double t = std::log(v);
        if (t <= lower[0] + 1e-6 || t >= upper[0] - 1e-6) {
            best.converged = false;
            best.reason = "a parameter is at the bound of the search range (1e-8, 1e8)";
        }
    }
    return best;
}

// The status of a finished fit over `customers`; throws when no starting point gave a finite
// likelihood (then there are no parameters to report).
inline FitStatus fit_status(const LogFit& f, double customers, const char* fit_name, const char* hint) {
    if (f.params.empty())
        fail(ErrorKind::out_of_range, std::string(fit_name) + ": the likelihood is not finite at any starting point",
             hint);
    FitStatus status;
    status.log_likelihood = -f.mean_nll * customers;
    status.customers = customers;
    status.converged = f.converged;
    status.iterations = f.iterations;
    status.reason = f.reason;
    return status;
}

}  // namespace pgs::core::btyd::detail
