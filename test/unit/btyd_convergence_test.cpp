// The honest `converged` (issue 13): every case of data that cannot identify a model reports false
// with a reason; the CDNOW fits stay converged, with lifetimes' published standard errors.
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

std::vector<CountedSummary> cdnow(bool repeaters_at_T = false) {
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
        if (repeaters_at_T && x > 0) t_x = T;
        m[{x, t_x, T}] += 1;
    }
    std::vector<CountedSummary> out;
    for (const auto& [k, n] : m) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
    return out;
}

template <typename Fit>
void expect_not_converged(const Fit& f, const char* what) {
    EXPECT_FALSE(f.status.converged) << what << ": " << f.status.reason;
    EXPECT_NE(f.status.reason, "converged") << what;
    EXPECT_FALSE(f.status.reason.empty()) << what;
}

}  // namespace

TEST(BtydConvergence, AllZeroSummariesDoNotIdentify) {
    std::vector<CountedSummary> d = {{0, 0, 0, 1000}};
    expect_not_converged(fit_bgnbd(d.data(), d.size(), nullptr), "bgnbd (0,0,0)");
    expect_not_converged(fit_paretonbd(d.data(), d.size(), nullptr), "paretonbd (0,0,0)");
}

TEST(BtydConvergence, NobodyRepeatingDoesNotIdentify) {
    std::vector<CountedSummary> d;
    for (int g = 1; g <= 1000; ++g) d.push_back({0, 0, 10.0 + g % 30, 1});
    expect_not_converged(fit_bgnbd(d.data(), d.size(), nullptr), "bgnbd no repeat");
    expect_not_converged(fit_paretonbd(d.data(), d.size(), nullptr), "paretonbd no repeat");
}

TEST(BtydConvergence, OneCustomerAndIdenticalCustomersDoNotIdentify) {
    std::vector<CountedSummary> one = {{2, 30.43, 38.86, 1}}, same = {{2, 30.43, 38.86, 1000}};
    expect_not_converged(fit_bgnbd(one.data(), one.size(), nullptr), "bgnbd one");
    expect_not_converged(fit_bgnbd(same.data(), same.size(), nullptr), "bgnbd identical");
    expect_not_converged(fit_paretonbd(one.data(), one.size(), nullptr), "paretonbd one");
    expect_not_converged(fit_paretonbd(same.data(), same.size(), nullptr), "paretonbd identical");
}

TEST(BtydConvergence, TenCustomersWithABoundParameter) {
    // Ten CDNOW-like customers, all still buying at the end: nobody drops out, a runs to 0.
    std::vector<CountedSummary> d = {{0, 0, 38, 4}, {1, 20, 38, 1}, {2, 30, 38, 1}, {3, 35, 38, 1},
                                     {1, 37, 38, 1}, {5, 38, 38, 1}, {2, 36, 38, 1}};
    auto f = fit_bgnbd(d.data(), d.size(), nullptr);
    expect_not_converged(f, "bgnbd ten");
}

TEST(BtydConvergence, CdnowWithRepeatersAtTDoesNotIdentifyDropout) {
    auto d = cdnow(true);
    expect_not_converged(fit_bgnbd(d.data(), d.size(), nullptr), "bgnbd t_x = T");
    expect_not_converged(fit_paretonbd(d.data(), d.size(), nullptr), "paretonbd t_x = T");
}

// lifetimes' BetaGeoFitter.summary on the CDNOW sample: se r 0.0126, alpha 0.378, a 0.186, b 0.705.
TEST(BtydConvergence, CdnowConvergesWithLifetimesStandardErrors) {
    auto d = cdnow();
    auto bg = fit_bgnbd(d.data(), d.size(), nullptr);
    ASSERT_TRUE(bg.status.converged) << bg.status.reason;
    EXPECT_EQ(bg.status.reason, "converged");
    ASSERT_EQ(bg.status.std_errors.size(), 4u);
    const double want[] = {0.0126, 0.378, 0.186, 0.705};
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(bg.status.std_errors[i], want[i], 0.006 * want[i] + 5e-4) << i;
    EXPECT_NEAR(bg.status.aic, 2 * 4 + 2 * 9582.43, 0.1);
    EXPECT_NEAR(bg.status.bic, 4 * std::log(2357.0) + 2 * 9582.43, 0.1);
    auto pn = fit_paretonbd(d.data(), d.size(), nullptr);
    EXPECT_TRUE(pn.status.converged) << pn.status.reason;
}
