#include "lapse.h"

#include <gtest/gtest.h>

#include <random>

#include "errors.h"

using namespace pgs::core;

TEST(Lapse, OneOrderUsesTypicalLatency) {
    LifecycleRule rule;  // typical 90 days, spread 90, lost after 90 + 3 * 90
    EXPECT_DOUBLE_EQ(lost_after_days({10}, rule), 360);
    rule.typical_latency_days = 20;
    EXPECT_DOUBLE_EQ(lost_after_days({10}, rule), 80);
}

TEST(Lapse, NeverBeforeJustOrderedWindow) {
    LifecycleRule rule;
    std::vector<double> daily;
    for (int i = 0; i < 30; ++i) daily.push_back(i);  // mean 1, spread floor 0.5: 2.5 < 30
    EXPECT_DOUBLE_EQ(lost_after_days(daily, rule), 30);
}

// A random rule and order history (n orders, days from the first), as both tests below draw them.
namespace {
struct RandomCase {
    LifecycleRule rule;
    std::vector<double> days{0};
};
RandomCase random_case(std::mt19937& rng, int n) {
    std::uniform_real_distribution<double> gap(0, 120), sig(0, 4), ratio(0, 1), jod(0, 60);
    RandomCase c;
    c.rule.active_sigmas = sig(rng);
    c.rule.lost_sigmas = c.rule.active_sigmas + sig(rng);
    c.rule.min_spread_ratio = ratio(rng);
    c.rule.just_ordered_days = jod(rng);
    c.rule.typical_latency_days = 1 + gap(rng);
    for (int i = 1; i < n; ++i) c.days.push_back(c.days.back() + gap(rng));
    return c;
}
}  // namespace

// The threshold agrees with classify() on both sides, for random histories and rules.
TEST(Lapse, AgreesWithClassify) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 2000; ++trial) {
        const auto [rule, days] = random_case(rng, 1 + trial % 9);
        const double t = lost_after_days(days, rule);
        EXPECT_NE(*classify(days, days.back() + t * (1 - 1e-9) - 1e-9, rule), Lifecycle::lost);
        EXPECT_EQ(*classify(days, days.back() + t * (1 + 1e-9) + 1e-9, rule), Lifecycle::lost);
    }
}

TEST(Lapse, RejectsBadRuleAndNoOrders) {
    LifecycleRule rule;
    rule.lost_sigmas = 0.5;  // below active_sigmas
    EXPECT_THROW(lost_after_days({1, 2}, rule), Error);
    EXPECT_THROW(lost_after_days(std::vector<double>{}, LifecycleRule{}), Error);
}

// The next change: the stage is the same just before it and differs just after it; none when lost.
TEST(Lapse, NextStageChangeAgreesWithClassify) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> frac(0, 1.5);
    for (int trial = 0; trial < 2000; ++trial) {
        const auto [rule, days] = random_case(rng, 1 + trial % 9);
        const double silence = frac(rng) * lost_after_days(days, rule);
        const Lifecycle now = *classify(days, days.back() + silence, rule);
        const auto next = next_stage_change_days(days, silence, rule);
        if (now == Lifecycle::lost) {
            EXPECT_FALSE(next.has_value());
            continue;
        }
        ASSERT_TRUE(next.has_value());
        EXPECT_GE(*next, silence);
        EXPECT_EQ(*classify(days, days.back() + std::max(silence, *next * (1 - 1e-9) - 1e-9), rule), now);
        EXPECT_NE(*classify(days, days.back() + *next + 1e-6, rule), now);
    }
}
