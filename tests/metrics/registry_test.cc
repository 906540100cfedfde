#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace metrics {
namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST(RegistryTest, CounterAndGaugeExposition) {
  Registry reg;
  auto& req = reg.counter("edgeclass_requests_total", "Requests served.", {"route", "code"});
  req.labels({"/a", "200"}).inc();
  req.labels({"/a", "200"}).inc(2);
  req.labels({"/b", "404"}).inc();
  reg.gauge("edgeclass_rooms", "Live rooms.").get().set(3);
  EXPECT_EQ(reg.expose(),
            "# HELP edgeclass_requests_total Requests served.\n"
            "# TYPE edgeclass_requests_total counter\n"
            "edgeclass_requests_total{route=\"/a\",code=\"200\"} 3\n"
            "edgeclass_requests_total{route=\"/b\",code=\"404\"} 1\n"
            "# HELP edgeclass_rooms Live rooms.\n"
            "# TYPE edgeclass_rooms gauge\n"
            "edgeclass_rooms 3\n");
}

TEST(RegistryTest, ChildrenAreStableAndShared) {
  Registry reg;
  auto& fam = reg.counter("x_total", "x", {"k"});
  Counter* a = &fam.labels({"v"});
  for (int i = 0; i < 100; ++i) fam.labels({std::to_string(i) + "w"});
  EXPECT_EQ(a, &fam.labels({"v"}));
  // Registering the same definition again returns the same family.
  EXPECT_EQ(&fam, &reg.counter("x_total", "x", {"k"}));
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry reg;
  reg.gauge("g", "line one\nback\\slash \"quoted\"", {"path"}).labels({"a\"b\\c\nd"}).set(1.5);
  std::string text = reg.expose();
  EXPECT_TRUE(contains(text, "# HELP g line one\\nback\\\\slash \"quoted\"\n")) << text;
  EXPECT_TRUE(contains(text, "g{path=\"a\\\"b\\\\c\\nd\"} 1.5\n")) << text;
}

TEST(RegistryTest, ValueFormatting) {
  std::string s;
  append_value(s, 0);
  s += ' ';
  append_value(s, -2.25);
  s += ' ';
  append_value(s, 1e21);
  s += ' ';
  append_value(s, INFINITY);
  s += ' ';
  append_value(s, -INFINITY);
  s += ' ';
  append_value(s, NAN);
  s += ' ';
  append_value(s, 0.1);
  EXPECT_EQ(s, "0 -2.25 1e+21 +Inf -Inf NaN 0.1");
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry reg;
  auto& h = reg.histogram("lat_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  Histogram& child = h.labels({"/x"});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 5.0}) child.observe(v);
  std::string text = reg.expose();
  EXPECT_EQ(text,
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"1\"} 4\n"
            "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{route=\"/x\"} 8.15\n"
            "lat_seconds_count{route=\"/x\"} 6\n");
}

TEST(RegistryTest, HistogramWithoutLabelsAndDefaults) {
  Registry reg;
  auto& h = reg.histogram("req_seconds", "Latency.");
  EXPECT_EQ(h.bounds().front(), 0.00005);
  EXPECT_EQ(h.bounds().back(), 10);
  h.get().observe(0.00003);
  std::string text = reg.expose();
  EXPECT_TRUE(contains(text, "req_seconds_bucket{le=\"5e-05\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "req_seconds_bucket{le=\"10\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "req_seconds_count 1\n")) << text;
}

TEST(RegistryTest, HistogramAddsCountsKeptElsewhere) {
  Registry reg;
  Histogram& h = reg.histogram("fwd_seconds", "f", {}, {0.001, 0.002}).get();
  h.observe(0.0015);
  const uint64_t per_bucket[] = {3, 0, 2};
  h.add_counts(per_bucket, 0.25);
  const uint64_t wrong_size[] = {1, 1};
  h.add_counts(wrong_size, 9);  // ignored
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{3, 4, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 0.2515);
}

TEST(RegistryTest, LabelledCallbacksFollowTheLiveSet) {
  Registry reg;
  std::vector<std::pair<std::string, double>> rooms = {{"ses_a", 3}, {"ses_b", 1000}};
  reg.callback_family("room_subscribers", "Per room.", Type::kGauge, {"room"},
                      [&](const Registry::Emit& emit) {
                        for (const auto& [id, n] : rooms) {
                          const std::string v[] = {id};
                          emit(v, n);
                        }
                        const std::string wrong[] = {"a", "b"};
                        emit(wrong, 1);  // wrong arity: skipped
                      });
  std::string text = reg.expose();
  EXPECT_TRUE(contains(text, "# TYPE room_subscribers gauge\n")) << text;
  EXPECT_TRUE(contains(text, "room_subscribers{room=\"ses_a\"} 3\n")) << text;
  EXPECT_TRUE(contains(text, "room_subscribers{room=\"ses_b\"} 1000\n")) << text;
  rooms.erase(rooms.begin());
  text = reg.expose();
  EXPECT_FALSE(contains(text, "ses_a")) << text;
  EXPECT_FALSE(contains(text, "{room=\"a\"")) << text;
}

TEST(RegistryTest, BucketHelpers) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(linear_buckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
}

TEST(RegistryTest, CounterFractions) {
  Counter c;
  c.add(0.25);
  c.add(1.5);
  c.add(-3);   // ignored: counters never go down
  c.add(NAN);  // ignored
  c.inc();
  EXPECT_DOUBLE_EQ(c.value(), 2.75);
}

TEST(RegistryTest, CallbacksAreReadAtScrapeTime) {
  Registry reg;
  double open = 5;
  reg.callback("edgeclass_open_connections", "Open connections.", Type::kGauge,
               [&open] { return open; });
  reg.callback("edgeclass_unknown", "Not available here.", Type::kGauge, [] { return NAN; });
  EXPECT_TRUE(contains(reg.expose(), "edgeclass_open_connections 5\n"));
  open = 7;
  std::string text = reg.expose();
  EXPECT_TRUE(contains(text, "edgeclass_open_connections 7\n"));
  // NaN omits the sample but keeps the family's HELP/TYPE.
  EXPECT_TRUE(contains(text, "# TYPE edgeclass_unknown gauge\n"));
  EXPECT_FALSE(contains(text, "edgeclass_unknown NaN"));
}

TEST(RegistryTest, ConcurrentUpdatesAreNotLost) {
  Registry reg;
  Counter& c = reg.counter("c_total", "c").get();
  Gauge& g = reg.gauge("g", "g").get();
  Histogram& h = reg.histogram("h_seconds", "h", {}, {1, 2}).get();
  constexpr int kThreads = 4, kIters = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        c.inc();
        g.inc();
        h.observe(1.5);
        if (i % 1000 == 0) (void)reg.expose();  // scrapes race with updates
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), kThreads * kIters);
  EXPECT_EQ(g.value(), kThreads * kIters);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, uint64_t(kThreads * kIters));
  EXPECT_EQ(s.cumulative[0], 0u);
  EXPECT_EQ(s.cumulative[1], uint64_t(kThreads * kIters));
  EXPECT_DOUBLE_EQ(s.sum, 1.5 * kThreads * kIters);
}

using RegistryDeathTest = ::testing::Test;

TEST(RegistryDeathTest, MisuseAborts) {
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("bad name", "x");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        Registry r;
        r.gauge("g", "x", {"__reserved"});
      },
      "invalid label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.histogram("h", "x", {"le"});
      },
      "invalid label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.histogram("h", "x", {}, {1, 1});
      },
      "strictly increasing");
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("m_total", "x");
        r.gauge("m_total", "x");
      },
      "registered twice");
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("m_total", "x", {"a"}).labels({"1", "2"});
      },
      "2 label values given for 1 label names");
}

}  // namespace
}  // namespace metrics
