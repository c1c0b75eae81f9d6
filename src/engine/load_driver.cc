// The engine-independent load of load_driver.h.
#include "engine/load_driver.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "common/strings.h"
#include "engine/engine.h"

namespace lakegate::engine {
namespace {

constexpr int64_t kProgressEveryRows = 8192;

Status InvalidName(std::string message) {
  return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidName, std::move(message));
}
Status InvalidData(std::string message) {
  return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidData, std::move(message));
}

bool IsSafeTypeName(std::string_view type) {
  for (char c : type) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

// Type inference state of one column.
struct Inferred {
  bool any = false;
  bool all_integer = true;
  bool all_number = true;
  void Add(const LoadField& f) {
    if (f.kind == LoadField::Kind::kNull) return;
    any = true;
    if (f.kind == LoadField::Kind::kText) {
      all_integer = all_number = false;
      return;
    }
    if (all_integer && !ParseLoadInteger(f.text, /*strict=*/true, nullptr)) all_integer = false;
    if (all_number && !all_integer && !ParseLoadNumber(f.text, /*strict=*/true, nullptr)) {
      all_number = false;
    }
  }
  std::string Type() const {
    if (!any) return "TEXT";
    if (all_integer) return "INTEGER";
    if (all_number) return "REAL";
    return "TEXT";
  }
};

// `field` as a value of a column of `kind`; explains a value that cannot fit.
Status Convert(const LoadField& field, ColumnKind kind, const LoadedColumn& column,
               LoadValue& out) {
  auto mismatch = [&](const char* want) {
    return InvalidData("column '" + column.name + "' is " + column.type + " but the value '" +
                       ShortenForMessage(field.text) + "' is not " + want);
  };
  if (field.kind == LoadField::Kind::kNull) {
    out = std::monostate{};
    return Status::Ok();
  }
  int64_t i = 0;
  double d = 0;
  switch (kind) {
    case ColumnKind::kText:
      out = std::string_view(field.text);
      return Status::Ok();
    case ColumnKind::kInteger:
      if (ParseLoadInteger(field.text, false, &i)) {
        out = i;
      } else if (ParseLoadNumber(field.text, false, &d) && d == std::trunc(d) &&
                 std::fabs(d) < 9.2e18) {
        out = static_cast<int64_t>(d);  // whole and within int64: exact
      } else {
        return mismatch("an integer");
      }
      return Status::Ok();
    case ColumnKind::kReal:
      if (!ParseLoadNumber(field.text, false, &d)) return mismatch("a number");
      out = d;
      return Status::Ok();
    case ColumnKind::kNumeric:
      if (ParseLoadInteger(field.text, false, &i)) {
        out = i;
      } else if (ParseLoadNumber(field.text, false, &d)) {
        out = d;
      } else {
        return mismatch("a number");
      }
      return Status::Ok();
    case ColumnKind::kAny:  // no declared type: keep what the value looks like
      if (field.kind == LoadField::Kind::kLiteral && ParseLoadInteger(field.text, true, &i)) {
        out = i;
      } else if (field.kind == LoadField::Kind::kLiteral && ParseLoadNumber(field.text, true, &d)) {
        out = d;
      } else {
        out = std::string_view(field.text);
      }
      return Status::Ok();
  }
  return mismatch("a value");
}

std::string ListNames(const std::vector<LoadedColumn>& columns) {
  std::string out;
  for (const LoadedColumn& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

// Pass 1 of a load that creates its table: each source column's type.
Result<std::vector<std::string>> InferTypes(RowSource& source,
                                            const std::function<void(int64_t)>& report) {
  std::vector<LoadField> row;
  std::vector<Inferred> inferred;
  int64_t rows = 0;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool more, source.Next(row));
    if (!more) break;
    inferred.resize(row.size());
    for (size_t i = 0; i < row.size(); ++i) inferred[i].Add(row[i]);
    if (++rows % kProgressEveryRows == 0) report(rows);
  }
  report(rows);
  if (source.columns().empty()) {
    return InvalidData(source.name() +
                       ": no columns found (an NDJSON file needs at least one object with a key)");
  }
  inferred.resize(source.columns().size());
  std::vector<std::string> types;
  for (const Inferred& i : inferred) types.push_back(i.Type());
  return types;
}

// Maps the source's columns to the table's and keeps the target's insert
// statement in step with them; the source may learn new columns (NDJSON keys
// first seen on a later line).
class ColumnMapping {
 public:
  ColumnMapping(const std::vector<LoadedColumn>& table, std::string qualified)
      : table_(table), qualified_(std::move(qualified)) {
    for (size_t i = 0; i < table_.size(); ++i) by_name_.emplace(AsciiLower(table_[i].name), i);
  }

  size_t size() const { return mapping_.size(); }
  const LoadedColumn& column(size_t source_index) const { return table_[mapping_[source_index]]; }
  ColumnKind kind(size_t source_index) const { return kinds_[source_index]; }

  // Maps the source columns not mapped yet and prepares the target's insert.
  Status Extend(const std::vector<std::string>& names, LoadTarget& target) {
    std::vector<std::string> unknown;
    for (size_t i = mapping_.size(); i < names.size(); ++i) {
      auto it = by_name_.find(AsciiLower(names[i]));
      if (it == by_name_.end()) {
        unknown.push_back(names[i]);
        continue;
      }
      mapping_.push_back(it->second);
      kinds_.push_back(target.KindOf(table_[it->second].type));
    }
    if (!unknown.empty()) {
      return InvalidData("column(s) " + Join(unknown, ", ") + " of the file are not in " +
                         qualified_ + ", whose columns are: " + ListNames(table_));
    }
    std::vector<std::string> insert_columns;
    for (size_t index : mapping_) insert_columns.push_back(table_[index].name);
    return target.PrepareInsert(insert_columns);
  }

 private:
  const std::vector<LoadedColumn>& table_;
  const std::string qualified_;
  std::unordered_map<std::string, size_t> by_name_;  // lower-case name -> table column
  std::vector<size_t> mapping_;                      // source column -> table column
  std::vector<ColumnKind> kinds_;                    // by source column
};

}  // namespace

bool ParseLoadInteger(std::string_view s, bool strict, int64_t* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::string_view digits = s;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty()) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  if (strict && digits.size() > 1 && digits[0] == '0') return false;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (out != nullptr) *out = value;
  return true;
}

bool ParseLoadNumber(std::string_view s, bool strict, double* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::string_view body = s;
  if (!body.empty() && body[0] == '-') body.remove_prefix(1);
  if (body.empty()) return false;
  if (!((body[0] >= '0' && body[0] <= '9') || body[0] == '.')) return false;
  if (strict && body.size() > 1 && body[0] == '0' && body[1] >= '0' && body[1] <= '9') {
    return false;
  }
  for (char c : body) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    if (!ok) return false;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) return false;
  if (out != nullptr) *out = value;
  return true;
}

std::string ShortenForMessage(std::string_view value) {
  constexpr size_t kMax = 40;
  std::string out =
      value.size() <= kMax ? std::string(value) : std::string(value.substr(0, kMax)) + "...";
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

Status ValidateLoadRequest(const LoadRequest& request) {
  if (!IsValidDatabaseName(request.database)) {
    return InvalidName("invalid database name '" + ShortenForMessage(request.database) +
                       "': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  }
  if (!IsValidDatabaseName(request.table) || AsciiLower(request.table).rfind("sqlite_", 0) == 0) {
    return InvalidName("invalid table name '" + ShortenForMessage(request.table) +
                       "': use [A-Za-z_][A-Za-z0-9_]{0,63}, not starting with sqlite_");
  }
  for (const LoadedColumn& column : request.columns) {
    if (!IsValidDatabaseName(column.name) || !IsSafeTypeName(column.type)) {
      return InvalidName("invalid column '" + ShortenForMessage(column.name) + " " +
                         ShortenForMessage(column.type) +
                         "': use [A-Za-z_][A-Za-z0-9_]{0,63} and a type of [A-Za-z0-9_ ]");
    }
  }
  return Status::Ok();
}

Result<LoadSummary> LoadInto(LoadTarget& target, const LoadRequest& request, RowSource& source,
                             const LoadProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::string qualified = request.database + "." + request.table;
  auto report = [&](LoadProgress::Phase phase, int64_t rows) {
    if (progress) progress({phase, source.bytes_read(), source.total_bytes(), rows});
  };
  auto at_line = [&](const Status& s) {
    return s.WithPrefix(source.name() + ":" + std::to_string(source.line()));
  };

  LG_ASSIGN_OR_RETURN(std::optional<std::vector<LoadedColumn>> existing, target.DescribeTable());
  LoadSummary summary;
  if (existing && request.create && request.keep_existing) return summary;
  if (!existing && !request.create) {
    return Status(StatusCode::kNotFound, EngineFailure::kNotFound,
                  "table " + qualified +
                      " does not exist; pass --create to create it with column types inferred "
                      "from the file");
  }

  std::vector<LoadedColumn> created;  // the columns of the table this load creates
  if (!existing) {
    if (!request.columns.empty()) {
      created = request.columns;
    } else {
      LG_ASSIGN_OR_RETURN(std::vector<std::string> types, InferTypes(source, [&](int64_t rows) {
                            report(LoadProgress::Phase::kScanning, rows);
                          }));
      for (size_t i = 0; i < types.size(); ++i) {
        created.push_back({source.columns()[i], std::move(types[i])});
      }
      LG_RETURN_IF_ERROR(source.Rewind());
    }
  }

  LG_RETURN_IF_ERROR(target.Begin());
  std::vector<LoadedColumn> table_columns;
  if (!existing) {
    // Created inside the transaction: a failed load leaves no table behind.
    LG_ASSIGN_OR_RETURN(std::optional<std::vector<LoadedColumn>> again, target.DescribeTable());
    if (again) {
      if (request.keep_existing) return summary;  // rolled back: nothing was written
      return Status(
          StatusCode::kFailedPrecondition, EngineFailure::kConflict,
          "table " + qualified + " was created by someone else during the load; run it again");
    }
    LG_RETURN_IF_ERROR(target.CreateTable(created));
    table_columns = std::move(created);
    summary.created = true;
  } else {
    table_columns = std::move(*existing);
  }

  ColumnMapping mapping(table_columns, qualified);
  if (Status s = mapping.Extend(source.columns(), target); !s.ok()) {
    return s.WithPrefix(source.name());
  }

  // Pass 2 (or the only pass): insert.
  std::vector<LoadField> row;
  std::vector<LoadValue> values;
  int64_t rows = 0;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool more, source.Next(row));
    if (!more) break;
    if (row.size() != mapping.size()) {
      if (Status s = mapping.Extend(source.columns(), target); !s.ok()) return at_line(s);
    }
    values.resize(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
      if (Status s = Convert(row[i], mapping.kind(i), mapping.column(i), values[i]); !s.ok()) {
        return at_line(s);
      }
    }
    if (Status s = target.Insert(values); !s.ok()) return at_line(s);
    if (++rows % kProgressEveryRows == 0) report(LoadProgress::Phase::kLoading, rows);
  }
  LG_RETURN_IF_ERROR(target.Commit());
  report(LoadProgress::Phase::kLoading, rows);

  summary.rows = rows;
  for (size_t i = 0; i < mapping.size(); ++i) {
    summary.columns.push_back({source.columns()[i], mapping.column(i).type});
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace lakegate::engine
