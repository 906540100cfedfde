// Prometheus metrics: counters, gauges and histograms in labelled families, and the text
// exposition format 0.0.4 that /metrics serves.
//
//   metrics::Registry reg;
//   auto& requests = reg.counter("edgeclass_http_requests_total", "HTTP requests served.",
//                                {"route", "code"});
//   metrics::Counter* ok = &requests.labels({"/api/v1/courses/{id}", "200"});  // once
//   ok->inc();                                                                 // hot path
//   std::string text = reg.expose();
//
// Threads: registering families and looking up children take a per-family mutex and are meant
// for start-up or first use; callers keep the returned reference (it stays valid for the life
// of the Registry). Updating a Counter/Gauge/Histogram is lock-free (relaxed atomics) and
// safe from any thread. expose() may run concurrently with updates; a scrape may then see a
// histogram's _sum a few observations ahead of or behind its buckets, never torn values.
//
// Misuse that is a programming error (an invalid metric or label name, registering one name
// twice with a different type, labels or buckets, or passing the wrong number of label
// values) aborts with a message on stderr: it shows up on the first test run, not in a scrape.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace metrics {

enum class Type { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram" as written in # TYPE lines.
std::string_view type_name(Type type);

// A monotonically increasing value (requests served, bytes sent).
class Counter {
 public:
  // Adds `n` (an integer count; the common case, a single atomic add).
  void inc(uint64_t n = 1) { whole_.fetch_add(n, std::memory_order_relaxed); }
  // Adds a non-negative amount, e.g. seconds of CPU. Negative or NaN amounts are ignored.
  void add(double amount);
  double value() const;

 private:
  std::atomic<uint64_t> whole_{0};
  std::atomic<double> fraction_{0};
};

// A value that goes up and down (open connections, queue depth).
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) { value_.fetch_add(d, std::memory_order_relaxed); }
  void dec(double d = 1) { value_.fetch_add(-d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (le = "less or equal").
class Histogram {
 public:
  // `bounds` must be strictly increasing and finite, and outlive the histogram (the family
  // owns them). A +Inf bucket is implicit.
  explicit Histogram(std::span<const double> bounds);

  // Records one observation. NaN is counted in the +Inf bucket only.
  void observe(double v);
  // Adds observations counted elsewhere (a thread that keeps its own plain counters):
  // `per_bucket` holds one non-cumulative count per bound plus the +Inf bucket; a size
  // mismatch is a programming error and adds nothing.
  void add_counts(std::span<const uint64_t> per_bucket, double sum);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  // Per-bucket (not cumulative) counts; index bounds_.size() is the +Inf overflow bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Request latency in seconds from 50 µs to 10 s, roughly 1-2.5-5 per decade.
std::vector<double> default_latency_buckets();
// `count` bounds: start, start*factor, start*factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, int count);
// `count` bounds: start, start+width, ...
std::vector<double> linear_buckets(double start, double width, int count);

// Shared part of every family: name, help, type and how to write itself out.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labels)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(labels)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the sample lines (not HELP/TYPE) to `out`.
  virtual void expose_samples(std::string& out) const = 0;

 protected:
  // Aborts unless `values` has one entry per label name.
  void check_arity(size_t values) const;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// All children of one metric name, keyed by label values.
template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        bounds_(std::move(bounds)) {}

  // The child for these label values (one per label name, in order), created on first use.
  // The reference stays valid for the life of the registry; keep it instead of calling this
  // on the hot path (it takes a lock and builds a key).
  T& labels(std::initializer_list<std::string_view> values) {
    return labels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  T& labels(std::span<const std::string_view> values);
  // The single child of a family without labels.
  T& get() { return labels({}); }

  const std::vector<double>& bounds() const { return bounds_; }
  void expose_samples(std::string& out) const override;

 private:
  std::vector<double> bounds_;  // histograms only; children keep spans into it
  mutable std::mutex mu_;
  // Guarded by mu_. unique_ptr keeps children at stable addresses; std::map keeps the
  // exposition sorted by label values.
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Owns every family and writes the exposition.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or returns the identical existing) family. `name` must match
  // [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* without a "__" prefix.
  // Counters should end in "_total" (promtool insists).
  CounterFamily& counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  // `buckets` strictly increasing and finite; "le" is not allowed as a label name.
  HistogramFamily& histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> buckets = default_latency_buckets());

  // A metric without labels whose value `read` computes at scrape time (open connections,
  // resident memory). `type` is kGauge or kCounter. `read` runs on the scraping thread, under
  // no registry lock, and must be safe to call from there; a NaN result omits the sample.
  void callback(std::string_view name, std::string_view help, Type type,
                std::function<double()> read);

  // Labelled samples computed at scrape time, for sets that come and go (one sample per live
  // classroom): `read` calls `emit` once per sample with one value per label name. Same
  // rules as callback() otherwise.
  using Emit = std::function<void(std::span<const std::string> label_values, double value)>;
  void callback_family(std::string_view name, std::string_view help, Type type,
                       std::vector<std::string> label_names,
                       std::function<void(const Emit& emit)> read);

  // The text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4), families
  // sorted by name, each with # HELP and # TYPE.
  std::string expose() const;

 private:
  template <typename F>
  F& add(std::string_view name, std::string_view help, Type type, std::vector<std::string> labels,
         std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;  // by mu_
};

// The content type to serve expose() with.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Formatting helpers, exposed for tests and for other exposition writers.
// A sample value: shortest round-trip decimal, "+Inf", "-Inf" or "NaN".
void append_value(std::string& out, double v);
// A label value with \\, \" and \n escaped (quotes not included).
void append_label_value(std::string& out, std::string_view v);

}  // namespace metrics
