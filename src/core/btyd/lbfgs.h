// A small limited-memory BFGS minimiser with box constraints (projected L-BFGS), written for the
// BTYD maximum-likelihood fits (Boost has no optimiser).
//
// Method (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 7.4 and 7.5):
//  - the search direction is the L-BFGS two-loop recursion over the last `memory` (s, y) pairs,
//    applied to the gradient with the variables held at a bound (gradient pointing outwards)
//    masked out, scaled by gamma = s'y / y'y;
//  - steps are projected onto the box; a backtracking Armijo line search (c1 = 1e-4, halving)
//    accepts the first finite, sufficiently lower value; the first step of a fresh memory is
//    limited to `max_step` in the infinity norm;
//  - pairs with curvature s'y <= 1e-12 |s||y| are skipped; a non-descent direction or a failed
//    line search clears the memory and retries along the projected steepest descent once;
//  - convergence: projected-gradient infinity norm <= gtol, or a relative decrease of the value
//    <= ftol on `patience` consecutive iterations.
// The poll callback runs once per iteration and may throw to abort (cancellation).
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace pgs::core::btyd {

// Called regularly by long loops; throws (Error with kind query_canceled) to abort them.
using Poll = std::function<void()>;

// Value at x; fills grad (same size as x). May return +inf or NaN outside the domain.
using Objective = std::function<double(const std::vector<double>& x, std::vector<double>& grad)>;

struct LbfgsOptions {
    int max_iterations = 500;
    int memory = 8;
    double gtol = 1e-9;
    double ftol = 1e-13;
    int patience = 3;
    double max_step = 1.0;
};

struct LbfgsResult {
    std::vector<double> x;
    double value = 0;
    int iterations = 0;
    int evaluations = 0;
    bool converged = false;
    std::string reason;
};

LbfgsResult minimize_lbfgsb(const Objective& f, std::vector<double> x0, const std::vector<double>& lower,
                            const std::vector<double>& upper, const LbfgsOptions& options, const Poll& poll);

}  // namespace pgs::core::btyd
