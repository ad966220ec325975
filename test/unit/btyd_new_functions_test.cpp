// The functions added in issue 13 against published values: the BG/NBD pmf and unconditional
// expectation (Hardie's notes, R BTYD, as quoted in lifetimes' tests), the Pareto/NBD unconditional
// expectation (R BTYD), MBG/NBD on CDNOW (BTYDplus), BG/BB on the FHS 2010 donations data (Hardie's
// spreadsheets); plus gradients against finite differences and pmfs that sum to 1 and to E[X(t)].
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "btyd/models.h"

using namespace pgs::core::btyd;

namespace {

const BgNbd kBg{0.243, 4.414, 0.793, 2.426};

std::vector<CountedSummary> cdnow() {
    std::ifstream in(std::string(PGS_TEST_DATA) + "/cdnow/cdnow_customers_summary_with_transactions.csv");
    std::string line;
    std::getline(in, line);
    std::map<std::tuple<double, double, double>, double> m;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        double id, x, t_x, T, z;
        char c;
        std::istringstream ss(line);
        ss >> id >> c >> x >> c >> t_x >> c >> T >> c >> z;
        m[{x, t_x, T}] += 1;
    }
    std::vector<CountedSummary> out;
    for (const auto& [k, n] : m) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
    return out;
}

// FHS 2010 Table 1: 11,104 donors of 1995, six annual opportunities 1996-2001 (frequency, recency, count).
const std::vector<CountedSummary> kDonations = {
    {0, 0, 6, 3464}, {1, 1, 6, 1091}, {1, 2, 6, 277}, {1, 3, 6, 129}, {1, 4, 6, 78},  {1, 5, 6, 119},
    {1, 6, 6, 129},  {2, 2, 6, 613},  {2, 3, 6, 255}, {2, 4, 6, 155}, {2, 5, 6, 173}, {2, 6, 6, 234},
    {3, 3, 6, 322},  {3, 4, 6, 181},  {3, 5, 6, 225}, {3, 6, 6, 357}, {4, 4, 6, 240}, {4, 5, 6, 284},
    {4, 6, 6, 512},  {5, 5, 6, 335},  {5, 6, 6, 728}, {6, 6, 6, 1203}};

}  // namespace

TEST(BtydNew, BgNbdProbabilityOfPurchasesMatchesRBtyd) {
    EXPECT_NEAR(bgnbd_probability_of_purchases(kBg, 39, 0), 0.5737864, 1e-7);
    EXPECT_NEAR(bgnbd_probability_of_purchases(kBg, 2, 10), 1.07869e-07, 1e-11);
    const double pmf30[] = {0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                            0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260};
    for (int n = 11; n <= 20; ++n) EXPECT_NEAR(bgnbd_probability_of_purchases(kBg, 30, n), pmf30[n - 11], 1e-9) << n;
    // A pmf: sums to 1, and its mean is the unconditional expectation.
    for (double t : {1.0, 39.0, 78.0}) {
        double sum = 0, mean = 0;
        for (int n = 0; n < 3000; ++n) {
            const double p = bgnbd_probability_of_purchases(kBg, t, n);
            sum += p;
            mean += n * p;
        }
        EXPECT_NEAR(sum, 1, 1e-10) << t;
        EXPECT_NEAR(mean, bgnbd_expected_purchases_new(kBg, t), 1e-8) << t;
    }
}

TEST(BtydNew, UnconditionalExpectationsMatchPublished) {
    // Hardie's BG/NBD spreadsheet (lifetimes' test): E[X(t)] at the fitted CDNOW model.
    auto d = cdnow();
    auto bg = fit_bgnbd(d.data(), d.size(), nullptr).params;
    const double times[] = {0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00};
    const double want[] = {0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576};
    // Within 6e-5 (the sheet's rounding) up to 32 weeks; at 78 weeks the sheet's truncated 2F1 series
    // is 3.7e-4 low (z = 0.95 converges slowly), so lifetimes' 5e-4.
    for (int i = 0; i < 6; ++i)
        EXPECT_NEAR(bgnbd_expected_purchases_new(bg, times[i]), want[i], i < 5 ? 6e-5 : 5e-4) << times[i];
    // R BTYD's pnbd.Expectation for CDNOW, t = 1..9: its example's estimates differ slightly from the
    // MLE on this summary file (ours give 0.4% more at every t), so lifetimes' tolerance, 0.01.
    auto pn = fit_paretonbd(d.data(), d.size(), nullptr).params;
    const double pwant[] = {0.05077821, 0.09916088, 0.14542507, 0.18979930, 0.23247466,
                            0.27361274, 0.31335159, 0.35181024, 0.38909211};
    for (int t = 1; t <= 9; ++t) EXPECT_NEAR(paretonbd_expected_purchases_new(pn, t), pwant[t - 1], 0.01) << t;
    // The closed form r beta / (alpha (s - 1)) (1 - (beta / (beta + t))^(s - 1)), by hand at t = 1.
    const double r = 0.5534, al = 10.5802, s = 0.6061, be = 11.6562;
    EXPECT_NEAR(paretonbd_expected_purchases_new({r, al, s, be}, 1),
                r * be / (al * (s - 1)) * (1 - std::pow(be / (be + 1), s - 1)), 1e-12);
    // R BTYD walkthrough: conditional expectation 25.46 for (26, 30.86, 31) over 52 weeks.
    EXPECT_NEAR(paretonbd_expected_purchases(pn, 26, 30.86, 31, 52), 25.46, 0.01);
}

TEST(BtydNew, ParetoNbdProbabilityOfPurchasesIsAPmfWithTheRightMean) {
    const ParetoNbd pn{0.553, 10.578, 0.606, 11.669};
    for (double t : {0.5, 39.0, 200.0}) {
        double sum = 0, mean = 0;
        for (int n = 0; n < 4000; ++n) {
            const double p = paretonbd_probability_of_purchases(pn, t, n);
            sum += p;
            mean += n * p;
        }
        EXPECT_NEAR(sum, 1, 1e-9) << t;
        EXPECT_NEAR(mean, paretonbd_expected_purchases_new(pn, t), 1e-7) << t;
    }
    EXPECT_EQ(paretonbd_probability_of_purchases(pn, 0, 0), 1.0);
}

TEST(BtydNew, MbgNbdOnCdnowMatchesBtydPlus) {
    auto d = cdnow();
    auto f = fit_mbgnbd(d.data(), d.size(), nullptr);
    EXPECT_TRUE(f.status.converged) << f.status.reason;
    EXPECT_NEAR(f.params.r, 0.525, 0.0005);
    EXPECT_NEAR(f.params.alpha, 6.183, 0.0005);
    EXPECT_NEAR(f.params.a, 0.891, 0.0005);
    EXPECT_NEAR(f.params.b, 1.614, 0.0005);
    EXPECT_NEAR(mbgnbd_expected_purchases(f.params, 2, 30.43, 38.86, 39), 1.226, 0.05);
    // MBG/NBD p_alive is below 1 even without repeat purchases.
    EXPECT_LT(mbgnbd_p_alive(f.params, 0, 0, 1), 1.0);
    for (double t : {1.0, 39.0}) {
        double sum = 0, mean = 0;
        for (int n = 0; n < 3000; ++n) {
            const double p = mbgnbd_probability_of_purchases(f.params, t, n);
            sum += p;
            mean += n * p;
        }
        EXPECT_NEAR(sum, 1, 1e-10);
        EXPECT_NEAR(mean, mbgnbd_expected_purchases_new(f.params, t), 1e-8);
    }
    // Gradient against central differences.
    for (auto s : std::vector<CountedSummary>{{0, 0, 38.86, 1}, {2, 30.43, 38.86, 1}, {7, 29.4, 38.86, 1}}) {
        double g[4];
        mbgnbd_loglik(kBg, s.x, s.t_x, s.T, g);
        for (int k = 0; k < 4; ++k) {
            BgNbd lo = kBg, hi = kBg;
            double* pl[] = {&lo.r, &lo.alpha, &lo.a, &lo.b};
            double* ph[] = {&hi.r, &hi.alpha, &hi.a, &hi.b};
            *pl[k] -= 1e-6;
            *ph[k] += 1e-6;
            const double fd = (mbgnbd_loglik(hi, s.x, s.t_x, s.T) - mbgnbd_loglik(lo, s.x, s.t_x, s.T)) / 2e-6;
            EXPECT_NEAR(g[k], fd, 1e-5 * std::max(1.0, std::fabs(fd)));
        }
    }
}

TEST(BtydNew, BgBbOnDonationsMatchesHardie) {
    auto f = fit_bgbb(kDonations.data(), kDonations.size(), nullptr);
    EXPECT_TRUE(f.status.converged) << f.status.reason;
    EXPECT_EQ(f.status.customers, 11104);
    EXPECT_NEAR(f.params.alpha, 1.204, 0.0005);
    EXPECT_NEAR(f.params.beta, 0.750, 0.0005);
    EXPECT_NEAR(f.params.gamma, 0.657, 0.0005);
    EXPECT_NEAR(f.params.delta, 2.783, 0.0005);
    EXPECT_NEAR(f.status.log_likelihood, -33225.6, 0.1);  // FHS 2010
    // Table 6, P(alive in 2002): 0.11 for (0, 0), 0.59 for (2, 4), 0.93 for (6, 6).
    EXPECT_NEAR(bgbb_p_alive(f.params, 0, 0, 6), 0.11, 0.005);
    EXPECT_NEAR(bgbb_p_alive(f.params, 2, 4, 6), 0.59, 0.005);
    EXPECT_NEAR(bgbb_p_alive(f.params, 6, 6, 6), 0.93, 0.005);
    // Conditional Expectations (II) sheet: 12,884.2 donations expected in 2002-2006.
    double total = 0;
    for (const auto& r : kDonations) total += r.count * bgbb_expected_purchases(f.params, r.x, r.t_x, r.T, 5);
    EXPECT_NEAR(total, 12884.2, 0.5);
    // In-sample fit sheet: 3,454.9 donors expected with 0 repeat donations, 1,253.1 with 6.
    EXPECT_NEAR(11104 * bgbb_probability_of_purchases(f.params, 6, 0), 3454.9, 0.05);
    EXPECT_NEAR(11104 * bgbb_probability_of_purchases(f.params, 6, 6), 1253.1, 0.05);
    double sum = 0, mean = 0;
    for (int x = 0; x <= 6; ++x) {
        const double p = bgbb_probability_of_purchases(f.params, 6, x);
        sum += p;
        mean += x * p;
    }
    EXPECT_NEAR(sum, 1, 1e-12);
    EXPECT_NEAR(mean, bgbb_expected_purchases_new(f.params, 6), 1e-10);
    // gamma = 1 (0/0 in the closed forms) is continuous.
    BgBb lo = f.params, one = f.params, hi = f.params;
    lo.gamma = 1 - 1e-6;
    one.gamma = 1;
    hi.gamma = 1 + 1e-6;
    EXPECT_NEAR(bgbb_expected_purchases_new(one, 6), 0.5 * (bgbb_expected_purchases_new(lo, 6) + bgbb_expected_purchases_new(hi, 6)), 1e-6);
    EXPECT_NEAR(bgbb_expected_purchases(one, 2, 4, 6, 5), 0.5 * (bgbb_expected_purchases(lo, 2, 4, 6, 5) + bgbb_expected_purchases(hi, 2, 4, 6, 5)), 1e-6);
    // Gradient against central differences.
    for (const auto& s : kDonations) {
        double g[4];
        bgbb_loglik(f.params, s.x, s.t_x, s.T, g);
        for (int k = 0; k < 4; ++k) {
            BgBb l = f.params, h = f.params;
            double* pl[] = {&l.alpha, &l.beta, &l.gamma, &l.delta};
            double* ph[] = {&h.alpha, &h.beta, &h.gamma, &h.delta};
            *pl[k] -= 1e-6;
            *ph[k] += 1e-6;
            const double fd = (bgbb_loglik(h, s.x, s.t_x, s.T) - bgbb_loglik(l, s.x, s.t_x, s.T)) / 2e-6;
            EXPECT_NEAR(g[k], fd, 1e-6 * std::max(1.0, std::fabs(fd)));
        }
    }
}

// The standard errors are the inverse observed information: check against a Hessian of the total
// log-likelihood built from second differences of its values alone (no analytic gradient).
TEST(BtydNew, StandardErrorsMatchAFiniteDifferenceHessian) {
    auto d = cdnow();
    auto f = fit_bgnbd(d.data(), d.size(), nullptr);
    const double p0[4] = {f.params.r, f.params.alpha, f.params.a, f.params.b};
    auto ll = [&](const double* p) { return bgnbd_total_loglik({p[0], p[1], p[2], p[3]}, d.data(), d.size()); };
    double H[4][4];
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            const double hi = 1e-3 * p0[i], hj = 1e-3 * p0[j];
            double pp[4], pm[4], mp[4], mm[4];
            for (int k = 0; k < 4; ++k) pp[k] = pm[k] = mp[k] = mm[k] = p0[k];
            pp[i] += hi, pp[j] += hj, pm[i] += hi, pm[j] -= hj, mp[i] -= hi, mp[j] += hj, mm[i] -= hi, mm[j] -= hj;
            H[i][j] = -(ll(pp) - ll(pm) - ll(mp) + ll(mm)) / (4 * hi * hj);
        }
    // Invert the 4x4 information by Gauss-Jordan.
    double A[4][8];
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 8; ++j) A[i][j] = j < 4 ? H[i][j] : (j - 4 == i);
    for (int c = 0; c < 4; ++c) {
        const double piv = A[c][c];
        for (int j = 0; j < 8; ++j) A[c][j] /= piv;
        for (int i = 0; i < 4; ++i)
            if (i != c) {
                const double f2 = A[i][c];
                for (int j = 0; j < 8; ++j) A[i][j] -= f2 * A[c][j];
            }
    }
    for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(f.status.std_errors[i], std::sqrt(A[i][i + 4]), 2e-3 * f.status.std_errors[i]) << i;
}
