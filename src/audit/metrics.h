// Metrics: a small registry of counters, gauges and histograms with labels,
// rendered in the Prometheus text exposition format 0.0.4.
//
// Thread-safety: everything is thread-safe. Registering metrics and the first use
// of a label combination take a mutex; the cells are relaxed atomics, so a caller
// on a hot path can look a cell up once (Counter::Cell) and increment it without
// any lock. References returned by the registry stay valid as long as it lives.
//
// Label values are free text (escaped when rendered); keep their number bounded
// (route templates, status codes, client ids), never raw request data.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.h"

namespace lakegate::audit {

class Metrics;

// A monotonically increasing value (e.g. requests served).
class Counter {
 public:
  class Cell {
   public:
    void Inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<double> value_{0};
  };

  // Adds `by` (should be >= 0) to the series with these label values (one per
  // label name, in order). A wrong number of values is logged and ignored.
  void Inc(std::initializer_list<std::string_view> label_values, double by = 1);
  // The series' cell, for repeated lock-free increments; nullptr on a label-count mismatch.
  Cell* WithLabels(std::initializer_list<std::string_view> label_values);
  // Current value; 0 for a series never touched.
  double Value(std::initializer_list<std::string_view> label_values) const;

 private:
  friend class Metrics;
  Counter(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  // The cell for `label_values` (created on first use); nullptr on a count mismatch.
  Cell* Find(std::initializer_list<std::string_view> label_values, bool create) const EXCLUDES(mu_);
  void Render(std::string& out) const EXCLUDES(mu_);

  // Set at registration, read-only afterwards.
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable Mutex mu_;
  // A cell never moves or goes away once created, so callers keep pointers to it.
  mutable std::map<std::vector<std::string>, std::unique_ptr<Cell>> cells_ GUARDED_BY(mu_);
};

// A value that goes up and down (e.g. open connections, keys loaded).
class Gauge {
 public:
  class Cell {
   public:
    void Set(double v) { value_.store(v, std::memory_order_relaxed); }
    void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<double> value_{0};
  };

  void Set(std::initializer_list<std::string_view> label_values, double value);
  void Add(std::initializer_list<std::string_view> label_values, double by);
  Cell* WithLabels(std::initializer_list<std::string_view> label_values);
  double Value(std::initializer_list<std::string_view> label_values) const;

 private:
  friend class Metrics;
  Gauge(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  // The cell for `label_values` (created on first use); nullptr on a count mismatch.
  Cell* Find(std::initializer_list<std::string_view> label_values, bool create) const EXCLUDES(mu_);
  void Render(std::string& out) const EXCLUDES(mu_);

  // Set at registration, read-only afterwards.
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable Mutex mu_;
  // A cell never moves or goes away once created, so callers keep pointers to it.
  mutable std::map<std::vector<std::string>, std::unique_ptr<Cell>> cells_ GUARDED_BY(mu_);
};

// Observations counted into cumulative buckets (e.g. request latency in seconds).
class Histogram {
 public:
  class Cell {
   public:
    explicit Cell(const std::vector<double>* bounds);
    void Observe(double value);
    // Non-cumulative count of bucket i (i == bounds.size() is the +Inf overflow).
    uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
    uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const { return sum_.load(std::memory_order_relaxed); }

   private:
    const std::vector<double>* bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;
    std::atomic<uint64_t> count_{0};
    std::atomic<double> sum_{0};
  };

  void Observe(std::initializer_list<std::string_view> label_values, double value);
  Cell* WithLabels(std::initializer_list<std::string_view> label_values);
  const std::vector<double>& bounds() const { return bounds_; }

  // Latency buckets in seconds, 100 us .. 10 s.
  static std::vector<double> LatencyBuckets();

 private:
  friend class Metrics;
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  Cell* Find(std::initializer_list<std::string_view> label_values, bool create) const EXCLUDES(mu_);
  void Render(std::string& out) const EXCLUDES(mu_);

  std::vector<double> bounds_;  // sorted, unique, finite; read-only after construction
  // Set at registration, read-only afterwards.
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  mutable Mutex mu_;
  // A cell never moves or goes away once created, so callers keep pointers to it.
  mutable std::map<std::vector<std::string>, std::unique_ptr<Cell>> cells_ GUARDED_BY(mu_);
};

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Registers a metric. `name` and label names should match
  // [a-zA-Z_:][a-zA-Z0-9_:]* (other characters become '_'). Registering a name
  // again returns the existing metric of that kind (its help and labels win);
  // registering it as another kind yields a metric with a "_dup" suffix and a
  // logged error, so a wiring mistake never crashes the server.
  Counter& AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {})
      EXCLUDES(mu_);
  Gauge& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {})
      EXCLUDES(mu_);
  // `buckets`: upper bounds; sorted and de-duplicated here, +Inf is implicit.
  Histogram& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                          std::vector<double> buckets) EXCLUDES(mu_);

  // Text format 0.0.4: HELP/TYPE lines, then one line per series; histograms as
  // cumulative _bucket{le=..} (ending with le="+Inf"), _sum and _count. Metrics
  // appear in registration order, series sorted by label values. A metric with
  // no labels always shows (0 until touched); labelled series appear once used.
  std::string RenderPrometheus() const EXCLUDES(mu_);

  // A label every series carries (e.g. node="auth-1:8080"), first among its
  // labels. Empty `value`: none.
  void SetConstantLabel(std::string name, std::string value) EXCLUDES(mu_);

  // Content-Type for the rendered text.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Entry {
    Kind kind;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  // The entry registered under `name`, or nullptr.
  Entry* FindEntry(std::string_view name) REQUIRES(mu_);

  mutable Mutex mu_;
  std::string constant_labels_ GUARDED_BY(mu_);  // `name="value"`, or "" without one
  std::vector<Entry> entries_ GUARDED_BY(mu_);   // registration order
};

}  // namespace lakegate::audit
