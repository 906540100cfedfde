#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace metrics {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) {
  if (n.empty() || n.starts_with("__")) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Help text escaping: only backslash and newline (quotes stay as they are).
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

// `{a="x",b="y"` plus an optional extra pair, then `}`; nothing when there are no labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out.push_back(',');
    out += names[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out.push_back(',');
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out.push_back('"');
  }
  out.push_back('}');
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

// ---- Counter, Histogram ----

void Counter::add(double amount) {
  if (!(amount >= 0)) return;  // also rejects NaN
  double whole = std::floor(amount);
  if (whole >= 1 && whole < 1.8e19)
    whole_.fetch_add(uint64_t(whole), std::memory_order_relaxed);
  else
    whole = 0;
  fraction_.fetch_add(amount - whole, std::memory_order_relaxed);
}

double Counter::value() const {
  return double(whole_.load(std::memory_order_relaxed)) + fraction_.load(std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double v) {
  // First bound >= v: the bucket whose le covers v. NaN compares false and lands at the end.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  if (std::isnan(v)) i = bounds_.size();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::add_counts(std::span<const uint64_t> per_bucket, double sum) {
  if (per_bucket.size() != bounds_.size() + 1) return;
  for (size_t i = 0; i < per_bucket.size(); ++i) {
    if (per_bucket[i]) counts_[i].fetch_add(per_bucket[i], std::memory_order_relaxed);
  }
  sum_.fetch_add(sum, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

std::vector<double> linear_buckets(double start, double width, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

// ---- Families ----

void FamilyBase::check_arity(size_t values) const {
  if (values != label_names_.size()) {
    die(name_ + ": " + std::to_string(values) + " label values given for " +
        std::to_string(label_names_.size()) + " label names");
  }
}

template <typename T>
T& Family<T>::labels(std::span<const std::string_view> values) {
  check_arity(values.size());
  std::vector<std::string> key(values.begin(), values.end());
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  if (it == children_.end()) {
    std::unique_ptr<T> child;
    if constexpr (std::is_same_v<T, Histogram>) {
      child = std::make_unique<Histogram>(std::span<const double>(bounds_));
    } else {
      child = std::make_unique<T>();
    }
    it = children_.emplace(std::move(key), std::move(child)).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::expose_samples(std::string& out) const {
  std::lock_guard lock(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      Histogram::Snapshot s = child->snapshot();
      std::string le;
      for (size_t i = 0; i <= bounds_.size(); ++i) {
        le.clear();
        if (i < bounds_.size())
          append_value(le, bounds_[i]);
        else
          le = "+Inf";
        out += name();
        out += "_bucket";
        append_labels(out, label_names(), values, "le", le);
        out.push_back(' ');
        append_uint(out, s.cumulative[i]);
        out.push_back('\n');
      }
      out += name();
      out += "_sum";
      append_labels(out, label_names(), values);
      out.push_back(' ');
      append_value(out, s.sum);
      out.push_back('\n');
      out += name();
      out += "_count";
      append_labels(out, label_names(), values);
      out.push_back(' ');
      append_uint(out, s.count);
      out.push_back('\n');
    } else {
      out += name();
      append_labels(out, label_names(), values);
      out.push_back(' ');
      append_value(out, child->value());
      out.push_back('\n');
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

namespace {

// Samples computed at scrape time (with or without labels).
class CallbackFamily final : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::vector<std::string> labels,
                 std::function<void(const Registry::Emit&)> read)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        read_(std::move(read)) {}
  void expose_samples(std::string& out) const override {
    std::vector<std::string> values;
    read_([&](std::span<const std::string> v, double value) {
      if (v.size() != label_names().size() || std::isnan(value)) return;
      values.assign(v.begin(), v.end());
      out += name();
      append_labels(out, label_names(), values);
      out.push_back(' ');
      append_value(out, value);
      out.push_back('\n');
    });
  }

 private:
  std::function<void(const Registry::Emit&)> read_;
};

}  // namespace

// ---- Registry ----

template <typename F>
F& Registry::add(std::string_view name, std::string_view help, Type type,
                 std::vector<std::string> labels, std::vector<double> bounds) {
  if (!valid_metric_name(name)) die("invalid metric name \"" + std::string(name) + "\"");
  for (const std::string& l : labels) {
    if (!valid_label_name(l) || (type == Type::kHistogram && l == "le")) {
      die(std::string(name) + ": invalid label name \"" + l + "\"");
    }
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      die(std::string(name) + ": bucket bounds must be finite and strictly increasing");
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    if (!existing || existing->type() != type || existing->label_names() != labels ||
        existing->bounds() != bounds) {
      die("metric \"" + std::string(name) + "\" registered twice with different definitions");
    }
    return *existing;
  }
  auto family = std::make_unique<F>(std::string(name), std::string(help), type, std::move(labels),
                                    std::move(bounds));
  F& ref = *family;
  families_.emplace(std::string(name), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  return add<CounterFamily>(name, help, Type::kCounter, std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  return add<GaugeFamily>(name, help, Type::kGauge, std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  return add<HistogramFamily>(name, help, Type::kHistogram, std::move(label_names),
                              std::move(buckets));
}

void Registry::callback(std::string_view name, std::string_view help, Type type,
                        std::function<double()> read) {
  // One sample without labels: the labelled form with no label names.
  callback_family(name, help, type, {},
                  [read = std::move(read)](const Emit& emit) { emit({}, read()); });
}

void Registry::callback_family(std::string_view name, std::string_view help, Type type,
                               std::vector<std::string> label_names,
                               std::function<void(const Emit& emit)> read) {
  if (!valid_metric_name(name)) die("invalid metric name \"" + std::string(name) + "\"");
  if (type == Type::kHistogram) die(std::string(name) + ": callbacks are gauges or counters");
  for (const std::string& l : label_names) {
    if (!valid_label_name(l)) die(std::string(name) + ": invalid label name \"" + l + "\"");
  }
  std::lock_guard lock(mu_);
  if (families_.count(name)) die("metric \"" + std::string(name) + "\" registered twice");
  families_.emplace(std::string(name),
                    std::make_unique<CallbackFamily>(std::string(name), std::string(help), type,
                                                     std::move(label_names), std::move(read)));
}

std::string Registry::expose() const {
  std::string out;
  out.reserve(4096);
  // Families are never removed, so pointers taken under the lock stay valid after it; the
  // samples are written outside it so that a slow callback does not block registration.
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  for (const FamilyBase* f : families) {
    out += "# HELP ";
    out += f->name();
    out.push_back(' ');
    append_help(out, f->help());
    out += "\n# TYPE ";
    out += f->name();
    out.push_back(' ');
    out += type_name(f->type());
    out.push_back('\n');
    f->expose_samples(out);
  }
  return out;
}

}  // namespace metrics
