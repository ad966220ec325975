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

struct FitStatus {
    double log_likelihood = 0;
    double customers = 0;
    bool converged = false;
    int iterations = 0;
    std::string reason;
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

template <typename Params>
struct Fitted {
    Params params;
    FitStatus status;
};

// Fits. Throw invalid_argument when there is no customer (or, for Gamma-Gamma, no repeat buyer).
Fitted<BgNbd> fit_bgnbd(const CountedSummary* data, std::size_t n, const Poll& poll);
Fitted<ParetoNbd> fit_paretonbd(const CountedSummary* data, std::size_t n, const Poll& poll);
// Rows with x = 0 are skipped (the model is for repeat buyers).
Fitted<GammaGamma> fit_gammagamma(const CountedSpend* data, std::size_t n, const Poll& poll);

// Individual log-likelihoods; when grad != nullptr it receives the derivatives with respect to the
// four (three) parameters in declaration order.
double bgnbd_loglik(const BgNbd& m, double x, double t_x, double T, double* grad = nullptr);
double paretonbd_loglik(const ParetoNbd& m, double x, double t_x, double T, double* grad = nullptr);
double gammagamma_loglik(const GammaGamma& m, double x, double mbar, double* grad = nullptr);

// Total log-likelihood of a data set (sum over customers).
double bgnbd_total_loglik(const BgNbd& m, const CountedSummary* data, std::size_t n);
double paretonbd_total_loglik(const ParetoNbd& m, const CountedSummary* data, std::size_t n);
double gammagamma_total_loglik(const GammaGamma& m, const CountedSpend* data, std::size_t n);

// Scoring. Inputs are checked (check_summary); `t` is a horizon in periods (>= 0).
double bgnbd_p_alive(const BgNbd& m, double x, double t_x, double T);
double bgnbd_expected_purchases(const BgNbd& m, double x, double t_x, double T, double t);
double paretonbd_p_alive(const ParetoNbd& m, double x, double t_x, double T);
double paretonbd_expected_purchases(const ParetoNbd& m, double x, double t_x, double T, double t);
// E[mean spend | x, mbar] = p (gamma + x mbar) / (p x + q - 1); needs q > 1.
double gammagamma_expected_spend(const GammaGamma& m, double x, double mbar);

// Median time (periods) from the last purchase to the next one, for a customer still active, as
// predicted at the last purchase: the purchase rate is then Gamma(r + x, alpha + t_x), so the
// waiting time is Lomax and its median is (alpha + t_x) (2^(1/(r+x)) - 1). Both BG/NBD and
// Pareto/NBD share this Gamma(r, alpha) purchase process.
double median_time_to_next_purchase(double r, double alpha, double x, double t_x);

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
