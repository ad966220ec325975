#include "lifecycle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "errors.h"
#include "time_units.h"

using namespace pgs::core;

namespace {
std::vector<double> every(double gap, int n, double start = 0) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(start + gap * i);
    return v;
}
}  // namespace

TEST(Lifecycle, NoOrdersNoStage) { EXPECT_FALSE(classify(std::vector<double>{}, 100, LifecycleRule{})); }

TEST(Lifecycle, JustOrderedWithinThirtyDays) {
    auto orders = every(7, 10);
    EXPECT_EQ(*classify(orders, orders.back() + 30, LifecycleRule{}), Lifecycle::just_ordered);
}

TEST(Lifecycle, JudgedAgainstOwnCadence) {
    LifecycleRule rule;
    auto weekly = every(7, 20);
    auto twice_a_year = every(182, 4);
    // Sixty days of silence: lost for a weekly buyer, still active for a twice-a-year buyer.
    EXPECT_EQ(*classify(weekly, weekly.back() + 60, rule), Lifecycle::lost);
    EXPECT_EQ(*classify(twice_a_year, twice_a_year.back() + 60, rule), Lifecycle::active);
}

TEST(Lifecycle, MonthlyBuyerProgression) {
    LifecycleRule rule;
    auto monthly = every(30, 6);  // mean 30, spread floored at 15
    const double last = monthly.back();
    EXPECT_EQ(*classify(monthly, last + 40, rule), Lifecycle::active);         // <= 45
    EXPECT_EQ(*classify(monthly, last + 60, rule), Lifecycle::slipping_away);  // <= 75
    EXPECT_EQ(*classify(monthly, last + 80, rule), Lifecycle::lost);
}

TEST(Lifecycle, OneOrderUsesTypicalLatency) {
    LifecycleRule rule;
    rule.typical_latency_days = 60;  // spread = 60: active <= 120, slipping <= 240
    EXPECT_EQ(*classify({0}, 100, rule), Lifecycle::active);
    EXPECT_EQ(*classify({0}, 200, rule), Lifecycle::slipping_away);
    EXPECT_EQ(*classify({0}, 300, rule), Lifecycle::lost);
}

TEST(Lifecycle, NeverImprovesWithSilence) {
    LifecycleRule rule;
    for (auto orders : {every(3, 30), every(45, 5), every(200, 3), std::vector<double>{0}}) {
        int worst = 0;
        for (double t = orders.back(); t < orders.back() + 2000; t += 0.5) {
            int stage = static_cast<int>(*classify(orders, t, rule));
            EXPECT_GE(stage, worst) << "at silence " << t - orders.back();
            worst = stage;
        }
        EXPECT_EQ(worst, static_cast<int>(Lifecycle::lost));
    }
}

TEST(Lifecycle, IrregularBuyerGetsMoreSlack) {
    LifecycleRule rule;
    std::vector<double> irregular{0, 10, 100, 110, 200};   // mean 50, sd ~ 46.19
    std::vector<double> regular{0, 50, 100, 150, 200};     // mean 50, spread floored at 25
    EXPECT_EQ(*classify(irregular, 200 + 90, rule), Lifecycle::active);
    EXPECT_EQ(*classify(regular, 200 + 90, rule), Lifecycle::slipping_away);
}

TEST(Lifecycle, CadenceStatistics) {
    auto c = cadence_of({0, 10, 30});  // gaps 10 and 20
    ASSERT_TRUE(c);
    EXPECT_DOUBLE_EQ(c->mean_gap_days, 15);
    EXPECT_NEAR(c->spread_days, 7.0710678, 1e-6);
    EXPECT_FALSE(cadence_of({5}));
}

TEST(Lifecycle, BadRulesAreRejected) {
    LifecycleRule rule;
    rule.typical_latency_days = -1;
    EXPECT_THROW(classify({0}, 1, rule), Error);
    rule = LifecycleRule{};
    rule.lost_sigmas = 0.5;
    try {
        classify({0}, 1, rule);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
        EXPECT_FALSE(e.hint().empty());
    }
}

// The gap moments: kept row by row (the ordered aggregate's state) they equal those of the sorted
// array, joined halves equal the whole, and the cadence is the days formula's.
TEST(Lifecycle, GapMomentsStreamJoinAndCadence) {
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<std::int64_t> gap_micros(0, 200LL * 86400 * 1000000);
    for (int trial = 0; trial < 500; ++trial) {
        const int n = 1 + trial % 40;
        std::vector<std::int64_t> t{-5000000000000LL + gap_micros(rng)};
        for (int i = 1; i < n; ++i) t.push_back(t.back() + (trial % 5 == 0 ? 0 : gap_micros(rng)));  // ties too
        GapMoments streamed{};
        for (auto at : t) streamed.append(at);
        const GapMoments whole = GapMoments::of_sorted(t.data(), t.size());
        EXPECT_EQ(std::memcmp(&streamed, &whole, sizeof whole), 0);
        const std::size_t cut = static_cast<std::size_t>(trial) % (t.size() + 1);
        GapMoments a = GapMoments::of_sorted(t.data(), cut), b = GapMoments::of_sorted(t.data() + cut, t.size() - cut);
        ASSERT_TRUE(a.append(b));
        EXPECT_EQ(std::memcmp(&a, &whole, sizeof whole), 0);
        std::vector<double> days;
        for (auto at : t) days.push_back(micros_to_days(at - t[0]));
        const auto exact = cadence_of(whole), approx = cadence_of(days);
        ASSERT_EQ(exact.has_value(), approx.has_value());
        if (exact) {
            EXPECT_NEAR(exact->mean_gap_days, approx->mean_gap_days, 1e-9 * (1 + approx->mean_gap_days));
            EXPECT_NEAR(exact->spread_days, approx->spread_days, 1e-7 * (1 + approx->spread_days));
        }
    }
    GapMoments early = GapMoments::of_sorted(std::vector<std::int64_t>{0, 10}.data(), 2);
    GapMoments late = GapMoments::of_sorted(std::vector<std::int64_t>{5, 20}.data(), 2);
    EXPECT_FALSE(early.append(late));  // overlapping ranges do not join
    EXPECT_EQ(early.count, 2u);
}

// The whole timestamp range (4713 BC to 294276 AD) overflows neither the span nor the squares.
TEST(Lifecycle, GapMomentsOverTheWholeTimestampRange) {
    const std::vector<std::int64_t> t{-211813488000000000LL, 0, 9223371331199999999LL};
    const auto c = cadence_of(GapMoments::of_sorted(t.data(), t.size()));
    ASSERT_TRUE(c);
    EXPECT_NEAR(c->mean_gap_days, micros_to_days((9223371331199999999.0 + 211813488000000000.0) / 2), 1);
    EXPECT_TRUE(std::isfinite(c->spread_days));
    EXPECT_GT(c->spread_days, 0);
    EXPECT_EQ(*classify(GapMoments::of_sorted(t.data(), t.size()), t.back(), LifecycleRule{}), Lifecycle::just_ordered);
}
