#include "order_span.h"

#include <gtest/gtest.h>

using pgs::core::OrderSpan;

namespace {
constexpr std::int64_t kDay = 86400LL * 1000000LL;
}

TEST(OrderSpan, NoLatencyBelowTwoOrders) {
    OrderSpan s;
    EXPECT_FALSE(s.mean_gap_days());
    s.add(5 * kDay);
    EXPECT_FALSE(s.mean_gap_days());
}

TEST(OrderSpan, MeanGapIsSpanOverGapsWhateverTheOrder) {
    OrderSpan s;
    for (int d : {30, 0, 10, 16}) s.add(d * kDay);  // gaps 10, 6, 14 -> mean 10
    ASSERT_TRUE(s.mean_gap_days());
    EXPECT_DOUBLE_EQ(*s.mean_gap_days(), 10.0);
}

TEST(OrderSpan, FractionalDays) {
    OrderSpan s;
    s.add(0);
    s.add(kDay / 2);
    EXPECT_DOUBLE_EQ(*s.mean_gap_days(), 0.5);
}

TEST(OrderSpan, MergeEqualsSequential) {
    OrderSpan a, b, all;
    for (int d : {3, 9, 1}) { a.add(d * kDay); all.add(d * kDay); }
    for (int d : {20, 2}) { b.add(d * kDay); all.add(d * kDay); }
    OrderSpan empty;
    a.merge(empty);
    a.merge(b);
    EXPECT_EQ(a.count, all.count);
    EXPECT_DOUBLE_EQ(*a.mean_gap_days(), *all.mean_gap_days());
    empty.merge(a);
    EXPECT_EQ(empty.first, 1 * kDay);
    EXPECT_EQ(empty.last, 20 * kDay);
}
