// Ground truth nobody here wrote: the CDNOW sample (test/data/cdnow/README.md). The RFM summary
// built from the raw transactions must equal the published summary file, and the three models fitted
// on it must give the published estimates.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "btyd/models.h"
#include "btyd/summary.h"

using namespace pgs::core::btyd;

namespace {

// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
int days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Row {
    int id;
    double x, t_x, T, zbar;
};

std::vector<Row> published_summary() {
    std::ifstream in(std::string(PGS_TEST_DATA) + "/cdnow/cdnow_customers_summary_with_transactions.csv");
    EXPECT_TRUE(in.good());
    std::string line;
    std::getline(in, line);  // header
    std::vector<Row> rows;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        Row r{};
        char c;
        std::istringstream ss(line);
        ss >> r.id >> c >> r.x >> c >> r.t_x >> c >> r.T >> c >> r.zbar;
        rows.push_back(r);
    }
    return rows;
}

std::vector<CountedSummary> counted(const std::vector<Row>& rows) {
    std::map<std::tuple<double, double, double>, double> m;
    for (const auto& r : rows) m[{r.x, r.t_x, r.T}] += 1;
    std::vector<CountedSummary> out;
    for (const auto& [k, n] : m) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
    return out;
}

std::vector<CountedSpend> spends(const std::vector<Row>& rows) {
    std::vector<CountedSpend> out;
    for (const auto& r : rows) out.push_back({r.x, r.zbar, 1});
    return out;
}

void expect_rel(double got, double want, double rel, const char* what) {
    EXPECT_NEAR(got, want, std::fabs(want) * rel) << what;
}

}  // namespace

TEST(BtydCdnow, SummaryFromTransactionsEqualsPublishedSummary) {
    std::ifstream in(std::string(PGS_TEST_DATA) + "/cdnow/CDNOW_sample.txt");
    ASSERT_TRUE(in.good());
    std::map<int, std::vector<DayAmount>> orders;
    std::string master, date;
    int id, cds;
    double dollars;
    while (in >> master >> id >> date >> cds >> dollars) {
        int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(4, 2)), d = std::stoi(date.substr(6, 2));
        orders[id].push_back({days_from_civil(y, m, d), dollars});
    }
    ASSERT_EQ(orders.size(), 2357u);
    const int cutoff = days_from_civil(1997, 9, 30);
    auto published = published_summary();
    ASSERT_EQ(published.size(), 2357u);
    int checked = 0;
    for (const auto& p : published) {
        auto& o = orders.at(p.id);
        auto s = summarize_orders(o.data(), o.data() + o.size(), cutoff, 7.0);
        ASSERT_TRUE(s) << p.id;
        EXPECT_EQ(s->frequency, p.x) << p.id;
        EXPECT_NEAR(s->recency, p.t_x, 0.005) << p.id;
        EXPECT_NEAR(s->age, p.T, 0.005) << p.id;
        EXPECT_NEAR(s->monetary, p.zbar, 0.0051) << p.id;
        ++checked;
    }
    EXPECT_EQ(checked, 2357);
}

TEST(BtydCdnow, BgNbdFitMatchesPublishedEstimates) {
    auto data = counted(published_summary());
    auto fit = fit_bgnbd(data.data(), data.size(), nullptr);
    EXPECT_TRUE(fit.status.converged) << fit.status.reason;
    expect_rel(fit.params.r, 0.243, 0.005, "r");
    expect_rel(fit.params.alpha, 4.414, 0.005, "alpha");
    expect_rel(fit.params.a, 0.793, 0.005, "a");
    expect_rel(fit.params.b, 2.426, 0.005, "b");
    EXPECT_NEAR(fit.status.log_likelihood, -9582.4, 0.1);
    EXPECT_EQ(fit.status.customers, 2357);
    // The fast grouped evaluation agrees with the plain per-summary one.
    EXPECT_NEAR(bgnbd_total_loglik(fit.params, data.data(), data.size()), fit.status.log_likelihood, 1e-6);
}

TEST(BtydCdnow, ParetoNbdFitMatchesPublishedEstimates) {
    auto data = counted(published_summary());
    auto fit = fit_paretonbd(data.data(), data.size(), nullptr);
    EXPECT_TRUE(fit.status.converged) << fit.status.reason;
    expect_rel(fit.params.r, 0.553, 0.005, "r");
    expect_rel(fit.params.alpha, 10.578, 0.005, "alpha");
    expect_rel(fit.params.s, 0.606, 0.005, "s");
    expect_rel(fit.params.beta, 11.669, 0.005, "beta");
    EXPECT_NEAR(fit.status.log_likelihood, -9595.0, 0.1);
    // The fit's grouped evaluation (a table of the 269 distinct recencies and ages, the series shared
    // by rows of the same x and T) agrees with the plain per-summary one.
    EXPECT_NEAR(paretonbd_total_loglik(fit.params, data.data(), data.size()), fit.status.log_likelihood, 1e-9);
}

TEST(BtydCdnow, GammaGammaFitMatchesPublishedEstimates) {
    auto data = spends(published_summary());
    auto fit = fit_gammagamma(data.data(), data.size(), nullptr);
    EXPECT_TRUE(fit.status.converged) << fit.status.reason;
    EXPECT_EQ(fit.status.customers, 946);
    expect_rel(fit.params.p, 6.25, 0.005, "p");
    expect_rel(fit.params.q, 3.74, 0.005, "q");
    expect_rel(fit.params.gamma, 15.44, 0.005, "gamma");
}

// lifetimes' README (CDNOW summary, models fitted without penalty) publishes the conditional
// expected average profit and the 12-month CLV at a 1% monthly discount of the first customers.
// Its example leaves customer_lifetime_value's freq at "D", i.e. 30 periods per month.
TEST(BtydCdnow, ScoresMatchLifetimesPublishedExamples) {
    auto rows = published_summary();
    auto data = counted(rows);
    auto bg = fit_bgnbd(data.data(), data.size(), nullptr).params;
    auto sp = spends(rows);
    auto gg = fit_gammagamma(sp.data(), sp.size(), nullptr).params;
    struct Case {
        int id;
        double spend, clv;
    } cases[] = {{1, 24.658619, 140.096211}, {2, 18.911489, 18.943467}, {3, 35.170981, 38.180574},
                 {6, 71.462843, 1003.868107}, {9, 27.282408, 167.418216}};
    for (const auto& c : cases) {
        const Row& r = rows[c.id - 1];
        ASSERT_EQ(r.id, c.id);
        double spend = gammagamma_expected_spend(gg, r.x, r.zbar);
        expect_rel(spend, c.spend, 0.002, "expected spend");
        double clv = discounted_value(
            [&](double t) { return bgnbd_expected_purchases(bg, r.x, r.t_x, r.T, t); }, spend, 12, 0.01, 30.0);
        expect_rel(clv, c.clv, 0.005, "clv");
    }
}
