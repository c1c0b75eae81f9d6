#include "audit/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace lakegate::audit {
namespace {

TEST(MetricsTest, UnlabelledMetricsRenderZeroBeforeUse) {
  Metrics m;
  m.AddCounter("lakegate_tokens_total", "Tokens issued.");
  m.AddGauge("lakegate_keys", "Signing keys loaded.");
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP lakegate_tokens_total Tokens issued.\n"
            "# TYPE lakegate_tokens_total counter\n"
            "lakegate_tokens_total 0\n"
            "# HELP lakegate_keys Signing keys loaded.\n"
            "# TYPE lakegate_keys gauge\n"
            "lakegate_keys 0\n");
}

TEST(MetricsTest, CounterWithLabelsRendersSortedSeries) {
  Metrics m;
  Counter& c = m.AddCounter("http_requests_total", "Requests.", {"route", "status"});
  c.Inc({"/oauth2/token", "200"});
  c.Inc({"/oauth2/token", "200"}, 2);
  c.Inc({"/healthz", "200"});
  EXPECT_EQ(c.Value({"/oauth2/token", "200"}), 3);
  EXPECT_EQ(c.Value({"/never", "500"}), 0);
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP http_requests_total Requests.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{route=\"/healthz\",status=\"200\"} 1\n"
            "http_requests_total{route=\"/oauth2/token\",status=\"200\"} 3\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Metrics m;
  Counter& c = m.AddCounter("x_total", "Help with \\ and\nnewline.", {"v"});
  c.Inc({"a\"b\\c\nd"});
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP x_total Help with \\\\ and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, WrongLabelCountIsIgnored) {
  Metrics m;
  Counter& c = m.AddCounter("y_total", "Y.", {"a", "b"});
  c.Inc({"only-one"});
  EXPECT_EQ(c.WithLabels({"1", "2", "3"}), nullptr);
  EXPECT_EQ(m.RenderPrometheus(), "# HELP y_total Y.\n# TYPE y_total counter\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInf) {
  Metrics m;
  Histogram& h = m.AddHistogram("lat_seconds", "Latency.", {"route"}, {0.5, 0.1, 1, 0.1});
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 0.5, 1}));
  h.Observe({"/t"}, 0.05);
  h.Observe({"/t"}, 0.1);  // on the bound: le is inclusive
  h.Observe({"/t"}, 0.7);
  h.Observe({"/t"}, 3);
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/t\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/t\",le=\"0.5\"} 2\n"
            "lat_seconds_bucket{route=\"/t\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/t\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/t\"} 3.85\n"
            "lat_seconds_count{route=\"/t\"} 4\n");
}

TEST(MetricsTest, UnlabelledHistogramRendersEmptyBuckets) {
  Metrics m;
  m.AddHistogram("h", "H.", {}, {1});
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(MetricsTest, ReRegisteringReturnsTheSameMetric) {
  Metrics m;
  Counter& a = m.AddCounter("c_total", "C.", {"x"});
  Counter& b = m.AddCounter("c_total", "Other help.", {"y"});
  EXPECT_EQ(&a, &b);
  // Another kind under the same name does not alias the counter.
  Gauge& g = m.AddGauge("c_total", "G.");
  g.Set({}, 5);
  EXPECT_NE(m.RenderPrometheus().find("c_total_dup 5\n"), std::string::npos);
}

TEST(MetricsTest, InvalidNameCharactersAreReplaced) {
  Metrics m;
  m.AddCounter("9bad-name", "B.", {"a-b"}).Inc({"v"});
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP _bad_name B.\n# TYPE _bad_name counter\n_bad_name{a_b=\"v\"} 1\n");
}

TEST(MetricsTest, GaugeSetAndAdd) {
  Metrics m;
  Gauge& g = m.AddGauge("conns", "Open connections.", {"shard"});
  g.Set({"0"}, 10);
  g.Add({"0"}, -3);
  g.WithLabels({"1"})->Add(0.5);
  EXPECT_EQ(g.Value({"0"}), 7);
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP conns Open connections.\n# TYPE conns gauge\n"
            "conns{shard=\"0\"} 7\nconns{shard=\"1\"} 0.5\n");
}

TEST(MetricsTest, ConstantLabelGoesFirstOnEverySeries) {
  Metrics m;
  m.AddCounter("plain_total", "No labels", {});
  m.AddCounter("req_total", "Requests", {"route"}).Inc({"/a"});
  m.AddHistogram("lat_seconds", "Latency", {}, {0.5}).Observe({}, 0.1);
  m.SetConstantLabel("node", "host-1:8080");
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("plain_total{node=\"host-1:8080\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{node=\"host-1:8080\",route=\"/a\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{node=\"host-1:8080\",le=\"0.5\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_count{node=\"host-1:8080\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE req_total counter\n"), std::string::npos);  // headers untouched
  m.SetConstantLabel("node", "");
  EXPECT_EQ(m.RenderPrometheus().find("node="), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Metrics m;
  Counter& c = m.AddCounter("n_total", "N.", {"k"});
  Histogram& h = m.AddHistogram("d", "D.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Counter::Cell* cell = c.WithLabels({"a"});
      for (int i = 0; i < 10000; ++i) {
        cell->Inc();
        c.Inc({"b"});
        h.Observe({}, 0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value({"a"}), 40000);
  EXPECT_EQ(c.Value({"b"}), 40000);
  EXPECT_NE(m.RenderPrometheus().find("d_count 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace lakegate::audit
