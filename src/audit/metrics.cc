#include "audit/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "common/log.h"

namespace lakegate::audit {
namespace {

bool ValidNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

std::string SanitizeName(std::string name) {
  if (name.empty()) return "_";
  for (size_t i = 0; i < name.size(); ++i) {
    if (!ValidNameChar(name[i], i == 0)) name[i] = '_';
  }
  return name;
}

std::vector<std::string> SanitizeNames(std::vector<std::string> names) {
  for (auto& n : names) n = SanitizeName(std::move(n));
  return names;
}

// Label values: backslash, double quote and line feed are escaped (format 0.0.4).
void AppendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// HELP text: backslash and line feed are escaped.
void AppendHelp(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    (void)ec;
    out.append(buf, end);
  }
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  AppendHelp(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `{a="x",b="y"` plus `extra` (e.g. `le="0.1"`), closed with `}`; nothing when
// there are no labels at all.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    AppendLabelValue(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

// Finds or creates the cell for `label_values` in `cells` (caller holds the mutex).
template <typename Cell, typename Make>
Cell* FindCell(std::map<std::vector<std::string>, std::unique_ptr<Cell>>& cells,
               const std::string& metric, size_t label_count,
               std::initializer_list<std::string_view> label_values, bool create, Make make) {
  if (label_values.size() != label_count) {
    log::Warn("metrics: " + metric + " takes " + std::to_string(label_count) +
              " label values, got " + std::to_string(label_values.size()) + "; ignored");
    return nullptr;
  }
  std::vector<std::string> key;
  key.reserve(label_values.size());
  for (std::string_view v : label_values) key.emplace_back(v);
  auto it = cells.find(key);
  if (it != cells.end()) return it->second.get();
  if (!create) return nullptr;
  auto [inserted, ok] = cells.emplace(std::move(key), make());
  (void)ok;
  return inserted->second.get();
}

}  // namespace

// ---------------------------------------------------------------------------
Counter::Cell* Counter::Find(std::initializer_list<std::string_view> label_values,
                             bool create) const {
  MutexLock lock(mu_);
  return FindCell(cells_, name_, label_names_.size(), label_values, create,
                  [] { return std::make_unique<Cell>(); });
}

void Counter::Inc(std::initializer_list<std::string_view> label_values, double by) {
  if (Cell* cell = Find(label_values, true)) cell->Inc(by);
}

Counter::Cell* Counter::WithLabels(std::initializer_list<std::string_view> label_values) {
  return Find(label_values, true);
}

double Counter::Value(std::initializer_list<std::string_view> label_values) const {
  const Cell* cell = Find(label_values, false);
  return cell ? cell->value() : 0;
}

void Counter::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "counter");
  MutexLock lock(mu_);
  if (label_names_.empty() && cells_.empty()) {
    out += name_;
    out += " 0\n";
    return;
  }
  for (const auto& [values, cell] : cells_) {
    out += name_;
    AppendLabels(out, label_names_, values);
    out += ' ';
    AppendDouble(out, cell->value());
    out += '\n';
  }
}

// ---------------------------------------------------------------------------
Gauge::Cell* Gauge::Find(std::initializer_list<std::string_view> label_values, bool create) const {
  MutexLock lock(mu_);
  return FindCell(cells_, name_, label_names_.size(), label_values, create,
                  [] { return std::make_unique<Cell>(); });
}

void Gauge::Set(std::initializer_list<std::string_view> label_values, double value) {
  if (Cell* cell = Find(label_values, true)) cell->Set(value);
}

void Gauge::Add(std::initializer_list<std::string_view> label_values, double by) {
  if (Cell* cell = Find(label_values, true)) cell->Add(by);
}

Gauge::Cell* Gauge::WithLabels(std::initializer_list<std::string_view> label_values) {
  return Find(label_values, true);
}

double Gauge::Value(std::initializer_list<std::string_view> label_values) const {
  const Cell* cell = Find(label_values, false);
  return cell ? cell->value() : 0;
}

void Gauge::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "gauge");
  MutexLock lock(mu_);
  if (label_names_.empty() && cells_.empty()) {
    out += name_;
    out += " 0\n";
    return;
  }
  for (const auto& [values, cell] : cells_) {
    out += name_;
    AppendLabels(out, label_names_, values);
    out += ' ';
    AppendDouble(out, cell->value());
    out += '\n';
  }
}

// ---------------------------------------------------------------------------
Histogram::Cell::Cell(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Cell::Observe(double value) {
  // Bucket i counts bounds[i-1] < value <= bounds[i]; NaN lands in +Inf.
  size_t i = static_cast<size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), value) -
                                 bounds_->begin());
  if (std::isnan(value)) i = bounds_->size();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)) {
  bounds_.erase(
      std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }),
      bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
}

std::vector<double> Histogram::LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

Histogram::Cell* Histogram::Find(std::initializer_list<std::string_view> label_values,
                                 bool create) const {
  MutexLock lock(mu_);
  return FindCell(cells_, name_, label_names_.size(), label_values, create,
                  [this] { return std::make_unique<Cell>(&bounds_); });
}

void Histogram::Observe(std::initializer_list<std::string_view> label_values, double value) {
  if (Cell* cell = Find(label_values, true)) cell->Observe(value);
}

Histogram::Cell* Histogram::WithLabels(std::initializer_list<std::string_view> label_values) {
  return Find(label_values, true);
}

void Histogram::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "histogram");
  MutexLock lock(mu_);
  auto render_cell = [&](const std::vector<std::string>& values, const Cell* cell) {
    // _count is the running sum of the buckets, so the lines agree with each
    // other even while observations race with the rendering.
    uint64_t cumulative = 0;
    std::string le;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += cell ? cell->bucket(i) : 0;
      le.clear();
      if (i < bounds_.size()) {
        AppendDouble(le, bounds_[i]);
      } else {
        le = "+Inf";
      }
      out += name_;
      out += "_bucket";
      AppendLabels(out, label_names_, values, "le", le);
      out += ' ';
      AppendUint(out, cumulative);
      out += '\n';
    }
    out += name_;
    out += "_sum";
    AppendLabels(out, label_names_, values);
    out += ' ';
    AppendDouble(out, cell ? cell->sum() : 0);
    out += '\n';
    out += name_;
    out += "_count";
    AppendLabels(out, label_names_, values);
    out += ' ';
    AppendUint(out, cumulative);
    out += '\n';
  };
  if (label_names_.empty() && cells_.empty()) {
    render_cell({}, nullptr);
    return;
  }
  for (const auto& [values, cell] : cells_) render_cell(values, cell.get());
}

// ---------------------------------------------------------------------------
Metrics::Entry* Metrics::FindEntry(std::string_view name) {
  for (Entry& e : entries_) {
    const std::string& n = e.kind == Kind::kCounter ? e.counter->name_
                           : e.kind == Kind::kGauge ? e.gauge->name_
                                                    : e.histogram->name_;
    if (n == name) return &e;
  }
  return nullptr;
}

Counter& Metrics::AddCounter(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  name = SanitizeName(std::move(name));
  MutexLock lock(mu_);
  if (Entry* e = FindEntry(name)) {
    if (e->kind == Kind::kCounter) return *e->counter;
    log::Error("metrics: " + name + " is already registered as another kind");
    name += "_dup";
    if (Entry* d = FindEntry(name); d && d->kind == Kind::kCounter) return *d->counter;
  }
  Entry entry{Kind::kCounter, nullptr, nullptr, nullptr};
  entry.counter.reset(
      new Counter(std::move(name), std::move(help), SanitizeNames(std::move(label_names))));
  entries_.push_back(std::move(entry));
  return *entries_.back().counter;
}

Gauge& Metrics::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  name = SanitizeName(std::move(name));
  MutexLock lock(mu_);
  if (Entry* e = FindEntry(name)) {
    if (e->kind == Kind::kGauge) return *e->gauge;
    log::Error("metrics: " + name + " is already registered as another kind");
    name += "_dup";
    if (Entry* d = FindEntry(name); d && d->kind == Kind::kGauge) return *d->gauge;
  }
  Entry entry{Kind::kGauge, nullptr, nullptr, nullptr};
  entry.gauge.reset(
      new Gauge(std::move(name), std::move(help), SanitizeNames(std::move(label_names))));
  entries_.push_back(std::move(entry));
  return *entries_.back().gauge;
}

Histogram& Metrics::AddHistogram(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> buckets) {
  name = SanitizeName(std::move(name));
  MutexLock lock(mu_);
  if (Entry* e = FindEntry(name)) {
    if (e->kind == Kind::kHistogram) return *e->histogram;
    log::Error("metrics: " + name + " is already registered as another kind");
    name += "_dup";
    if (Entry* d = FindEntry(name); d && d->kind == Kind::kHistogram) return *d->histogram;
  }
  Entry entry{Kind::kHistogram, nullptr, nullptr, nullptr};
  entry.histogram.reset(new Histogram(std::move(name), std::move(help),
                                      SanitizeNames(std::move(label_names)), std::move(buckets)));
  entries_.push_back(std::move(entry));
  return *entries_.back().histogram;
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  MutexLock lock(mu_);
  for (const Entry& e : entries_) {
    switch (e.kind) {
      case Kind::kCounter:
        e.counter->Render(out);
        break;
      case Kind::kGauge:
        e.gauge->Render(out);
        break;
      case Kind::kHistogram:
        e.histogram->Render(out);
        break;
    }
  }
  if (constant_labels_.empty()) return out;
  // Every series line ("name value" or "name{labels} value") gets the
  // constant label first; HELP/TYPE lines stay as they are.
  std::string labelled;
  labelled.reserve(out.size() + out.size() / 4);
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string_view line(out.data() + start, end - start);
    if (!line.empty() && line[0] != '#') {
      size_t cut = line.find_first_of("{ ");
      if (cut != std::string_view::npos) {
        labelled.append(line.substr(0, cut));
        labelled += '{';
        labelled += constant_labels_;
        if (line[cut] == '{') {
          if (line[cut + 1] != '}') labelled += ',';
          labelled.append(line.substr(cut + 1));
        } else {
          labelled += '}';
          labelled.append(line.substr(cut));
        }
      } else {
        labelled.append(line);
      }
    } else {
      labelled.append(line);
    }
    labelled += '\n';
    start = end + 1;
  }
  return labelled;
}

void Metrics::SetConstantLabel(std::string name, std::string value) {
  MutexLock lock(mu_);
  if (value.empty()) {
    constant_labels_.clear();
    return;
  }
  constant_labels_ = std::move(name);
  constant_labels_ += "=\"";
  AppendLabelValue(constant_labels_, value);
  constant_labels_ += '"';
}

}  // namespace lakegate::audit
