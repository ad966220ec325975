// Buy-till-you-die models: BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD (Schmittlein, Morrison &
// Colombo 1987, in the form of Fader & Hardie's 2005 note "A Note on Deriving the Pareto/NBD Model
// and Related Expressions") and the Gamma-Gamma spend model (Fader, Hardie & Lee 2005b, "RFM and
// CLV: Using Iso-value Curves for Customer Base Analysis"); fitted by maximum likelihood over
// compressed summaries (one row per distinct summary with its customer count) and scored per
// customer. Scoring formulas follow the papers and the lifetimes package (MIT).
#pragma once
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "lbfgs.h"

namespace pgs::core::btyd {

// One distinct (x, t_x, T) summary and how many customers share it.
struct CountedSummary {
    double x, t_x, T, count;
};
// One distinct (x, monetary) pair (Gamma-Gamma) and its customer count.
struct CountedSpend {
    double x, m, count;
};

// The outcome of a fit. `converged` is true only when the maximum is interior and identified (see
// fit_common.h: small gradient, positive-definite Hessian, no parameter at or running to a bound,
// every parameter's standard error finite and moderate); `reason` says why not, or "converged".
// std_errors are from the observed information (inverse Hessian of -LL at the estimate), NaN
// where the Hessian is not positive definite.
struct FitStatus {
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    std::string reason;
    std::vector<double> std_errors;
    double aic = 0, bic = 0;  // 2k - 2 LL and k ln(customers) - 2 LL
};

struct BgNbd {
    double r, alpha, a, b;
};
struct ParetoNbd {
    double r, alpha, s, beta;
};
struct GammaGamma {
    double p, q, gamma;
};
struct BgBb {
    double alpha, beta, gamma, delta;
};

template <typename Params>
struct Fitted {
    Params params;
    FitStatus status;
};

// Fits. Throw invalid_argument when there is no customer (or, for Gamma-Gamma, no repeat buyer).
Fitted<BgNbd> fit_bgnbd(const CountedSummary* data, std::size_t n, const Poll& poll);
// MBG/NBD (Batislam, Denizel & Filiztekin 2007): the BG/NBD where a customer may also drop out
// right after the first purchase (time 0); same parameters r, alpha, a, b.
Fitted<BgNbd> fit_mbgnbd(const CountedSummary* data, std::size_t n, const Poll& poll);
Fitted<ParetoNbd> fit_paretonbd(const CountedSummary* data, std::size_t n, const Poll& poll);
// BG/BB over discrete summaries: CountedSummary{x, t_x, n periods (in the T field), count}.
Fitted<BgBb> fit_bgbb(const CountedSummary* data, std::size_t n, const Poll& poll);
// Rows with x = 0 are skipped (the model is for repeat buyers).
Fitted<GammaGamma> fit_gammagamma(const CountedSpend* data, std::size_t n, const Poll& poll);

// Individual log-likelihoods; when grad != nullptr it receives the derivatives with respect to the
// four (three) parameters in declaration order.
double bgnbd_loglik(const BgNbd& m, double x, double t_x, double T, double* grad = nullptr);
double mbgnbd_loglik(const BgNbd& m, double x, double t_x, double T, double* grad = nullptr);
double paretonbd_loglik(const ParetoNbd& m, double x, double t_x, double T, double* grad = nullptr);
double gammagamma_loglik(const GammaGamma& m, double x, double mbar, double* grad = nullptr);

// The same for one customer, with the model and summary checked (customer_log_likelihood in SQL).
double bgnbd_customer_loglik(const BgNbd& m, double x, double t_x, double T);
double mbgnbd_customer_loglik(const BgNbd& m, double x, double t_x, double T);
double paretonbd_customer_loglik(const ParetoNbd& m, double x, double t_x, double T);

// Total log-likelihood of a data set (sum over customers).
double bgnbd_total_loglik(const BgNbd& m, const CountedSummary* data, std::size_t n);
double paretonbd_total_loglik(const ParetoNbd& m, const CountedSummary* data, std::size_t n);
double gammagamma_total_loglik(const GammaGamma& m, const CountedSpend* data, std::size_t n);

// BG/BB (bgbb.cpp): summary check, log-likelihood, alive in period n+1, expected purchases in the next
// `horizon` periods, and for a new customer E[X(n)] and P(X(n) = x).
void check_periods(double x, double t_x, double n);
double bgbb_loglik(const BgBb& m, double x, double t_x, double n, double* grad = nullptr);
double bgbb_customer_loglik(const BgBb& m, double x, double t_x, double n);
double bgbb_p_alive(const BgBb& m, double x, double t_x, double n);
double bgbb_expected_purchases(const BgBb& m, double x, double t_x, double n, double horizon);
double bgbb_expected_purchases_new(const BgBb& m, double n);
double bgbb_probability_of_purchases(const BgBb& m, double n, double x);

// Scoring. Inputs are checked (check_summary); `t` is a horizon in periods (>= 0).
double bgnbd_p_alive(const BgNbd& m, double x, double t_x, double T);
double bgnbd_expected_purchases(const BgNbd& m, double x, double t_x, double T, double t);
double mbgnbd_p_alive(const BgNbd& m, double x, double t_x, double T);
double mbgnbd_expected_purchases(const BgNbd& m, double x, double t_x, double T, double t);
double paretonbd_p_alive(const ParetoNbd& m, double x, double t_x, double T);
double paretonbd_expected_purchases(const ParetoNbd& m, double x, double t_x, double T, double t);
// For a new customer (unconditional): E[X(t)], the expected repeat purchases in t periods after
// the first purchase, and P(X(t) = n).
double bgnbd_expected_purchases_new(const BgNbd& m, double t);
double mbgnbd_expected_purchases_new(const BgNbd& m, double t);
double paretonbd_expected_purchases_new(const ParetoNbd& m, double t);
double bgnbd_probability_of_purchases(const BgNbd& m, double t, double n);
double mbgnbd_probability_of_purchases(const BgNbd& m, double t, double n);
double paretonbd_probability_of_purchases(const ParetoNbd& m, double t, double n);
// E[mean spend | x, mbar] = p (gamma + x mbar) / (p x + q - 1); needs q > 1.
double gammagamma_expected_spend(const GammaGamma& m, double x, double mbar);

// Median time (periods) from the last purchase to the next one, for a customer still active, as
// predicted at the last purchase: the purchase rate is then Gamma(r + x, alpha + t_x), so the
// waiting time is Lomax and its median is (alpha + t_x) (2^(1/(r+x)) - 1). Both BG/NBD and
// Pareto/NBD share this Gamma(r, alpha) purchase process. +inf when beyond the double range.
double median_time_to_next_purchase(double r, double alpha, double x, double t_x);
// The same with the whole model checked.
double median_time_to_next_purchase(const BgNbd& m, double x, double t_x);
double median_time_to_next_purchase(const ParetoNbd& m, double x, double t_x);

// CLV over `months` months as lifetimes' customer_lifetime_value: sum over month i of
// spend * (E[Y(i f)] - E[Y((i-1) f)]) / (1 + discount)^i, with f periods per month.
template <typename Expected>
double discounted_value(const Expected& expected_purchases, double spend, int months, double monthly_discount,
                        double periods_per_month) {
    double clv = 0, prev = 0;
    for (int i = 1; i <= months; ++i) {
        double cum = expected_purchases(i * periods_per_month);
        clv += spend * (cum - prev) / std::pow(1.0 + monthly_discount, i);
        prev = cum;
    }
    return clv;
}
void check_clv_arguments(int months, double monthly_discount);

// Log of the Gauss hypergeometric series 2F1(a, b; c; z) for a, b, c > 0 and 0 <= z < 1 (all terms
// positive), summed with rescaling so that huge values do not overflow. Throws out_of_range when
// more than `max_terms` terms would be needed (z very close to 1).
double log_hyp2f1_positive(double a, double b, double c, double z, long max_terms = 2000000);

// Pareto/NBD helper, exposed for tests: log of s * integral_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy,
// the second term of the likelihood (-inf when t_x == T).
double paretonbd_log_tail_integral(const ParetoNbd& m, double x, double t_x, double T);

}  // namespace pgs::core::btyd
