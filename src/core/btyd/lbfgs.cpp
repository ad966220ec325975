#include "lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "../errors.h"

namespace pgs::core::btyd {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

double norm_inf(const std::vector<double>& a) {
    double m = 0;
    for (double v : a) m = std::max(m, std::fabs(v));
    return m;
}

struct Pair {
    std::vector<double> s, y;
    double rho;
};

}  // namespace

LbfgsResult minimize_lbfgsb(const Objective& f, std::vector<double> x0, const std::vector<double>& lower,
                            const std::vector<double>& upper, const LbfgsOptions& opt, const Poll& poll) {
    const std::size_t n = x0.size();
    if (lower.size() != n || upper.size() != n)
        fail(ErrorKind::internal, "minimize_lbfgsb: bounds and start differ in size");
    for (std::size_t i = 0; i < n; ++i) x0[i] = std::clamp(x0[i], lower[i], upper[i]);

    LbfgsResult res;
    std::vector<double> x = std::move(x0), g(n), xn(n), gn(n), d(n), q(n), pg(n);
    double fx = f(x, g);
    res.evaluations = 1;
    if (!std::isfinite(fx)) {
        res.x = x;
        res.value = fx;
        res.reason = "objective not finite at the starting point";
        return res;
    }

    std::deque<Pair> mem;
    int small_decreases = 0;
    bool retried = false;
    for (int it = 0; it < opt.max_iterations; ++it) {
        if (poll) poll();
        res.iterations = it;
        // Free variables: not at a bound with the gradient pushing outwards.
        std::vector<bool> free(n);
        for (std::size_t i = 0; i < n; ++i) {
            bool at_low = x[i] <= lower[i] && g[i] > 0;
            bool at_high = x[i] >= upper[i] && g[i] < 0;
            free[i] = !(at_low || at_high);
            pg[i] = free[i] ? g[i] : 0.0;
        }
        if (norm_inf(pg) <= opt.gtol) {
            res.converged = true;
            res.reason = "projected gradient below tolerance";
            break;
        }
        // Two-loop recursion on the masked gradient.
        q = pg;
        std::vector<double> alpha(mem.size());
        for (std::size_t k = mem.size(); k-- > 0;) {
            alpha[k] = mem[k].rho * dot(mem[k].s, q);
            for (std::size_t i = 0; i < n; ++i) q[i] -= alpha[k] * mem[k].y[i];
        }
        if (!mem.empty()) {
            const Pair& last = mem.back();
            double gamma = dot(last.s, last.y) / dot(last.y, last.y);
            for (double& v : q) v *= gamma;
        }
        for (std::size_t k = 0; k < mem.size(); ++k) {
            double beta = mem[k].rho * dot(mem[k].y, q);
            for (std::size_t i = 0; i < n; ++i) q[i] += mem[k].s[i] * (alpha[k] - beta);
        }
        for (std::size_t i = 0; i < n; ++i) d[i] = free[i] ? -q[i] : 0.0;
        double slope = dot(pg, d);
        if (!(slope < 0)) {
            mem.clear();
            for (std::size_t i = 0; i < n; ++i) d[i] = -pg[i];
            slope = dot(pg, d);
        }
        double step = 1.0;
        if (mem.empty()) step = std::min(1.0, opt.max_step / norm_inf(d));
        // Backtracking Armijo search along the projected path.
        bool accepted = false;
        double fn = 0;
        for (int ls = 0; ls < 60; ++ls) {
            for (std::size_t i = 0; i < n; ++i) xn[i] = std::clamp(x[i] + step * d[i], lower[i], upper[i]);
            fn = f(xn, gn);
            ++res.evaluations;
            double decrease = 0;
            for (std::size_t i = 0; i < n; ++i) decrease += g[i] * (xn[i] - x[i]);
            if (std::isfinite(fn) && fn <= fx + 1e-4 * decrease) {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if (!accepted) {
            if (!mem.empty() && !retried) {
                mem.clear();
                retried = true;
                continue;
            }
            // No decrease possible in floating point: at a minimum if the gradient is small.
            res.converged = norm_inf(pg) <= 1e-5;
            res.reason = res.converged ? "no further decrease possible (at machine precision)" : "line search failed";
            break;
        }
        retried = false;
        Pair p;
        p.s.resize(n);
        p.y.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            p.s[i] = xn[i] - x[i];
            p.y[i] = gn[i] - g[i];
        }
        double sy = dot(p.s, p.y);
        if (sy > 1e-12 * std::sqrt(dot(p.s, p.s) * dot(p.y, p.y))) {
            p.rho = 1.0 / sy;
            mem.push_back(std::move(p));
            if (static_cast<int>(mem.size()) > opt.memory) mem.pop_front();
        }
        double rel = (fx - fn) / std::max(1.0, std::fabs(fn));
        small_decreases = rel <= opt.ftol ? small_decreases + 1 : 0;
        x.swap(xn);
        g.swap(gn);
        fx = fn;
        res.iterations = it + 1;
        if (small_decreases >= opt.patience) {
            res.converged = true;
            res.reason = "relative decrease below tolerance";
            break;
        }
    }
    if (res.reason.empty()) res.reason = "iteration limit reached";
    res.x = x;
    res.value = fx;
    return res;
}

}  // namespace pgs::core::btyd
