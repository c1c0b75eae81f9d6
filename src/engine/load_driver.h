// For engine implementations: the engine-independent steps of a load (name
// checks, type inference, matching source columns to table columns, turning
// fields into typed values, FILE:LINE errors, progress). An engine implements
// LoadTarget over one table of its storage and runs LoadInto() over it; the
// rules are in engine/load.h. Thread-compatible: one load per target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "engine/load.h"

namespace lakegate::engine {

// Which values a column takes, from its declared type (the engine decides).
enum class ColumnKind {
  kInteger,  // 64-bit integers (a whole-valued number is taken as one)
  kReal,     // numbers, stored as double
  kNumeric,  // numbers, stored as an integer when they are one, else double
  kText,     // anything, stored as text
  kAny,      // untyped: what the value looks like (integer, number, else text)
};

// One value ready to write. Text points into the LoadField it came from.
using LoadValue = std::variant<std::monostate, int64_t, double, std::string_view>;

// One table of an engine's storage, as a load writes it. Every call may fail
// with a status carrying an EngineFailure; the target rolls back an open
// transaction when it is destroyed without Commit().
class LoadTarget {
 public:
  virtual ~LoadTarget() = default;
  // The table's columns in order, or nullopt when the table does not exist.
  virtual Result<std::optional<std::vector<LoadedColumn>>> DescribeTable() = 0;
  virtual ColumnKind KindOf(std::string_view declared_type) const = 0;
  // Starts the load's one write transaction.
  virtual Status Begin() = 0;
  // Creates the table, inside the transaction.
  virtual Status CreateTable(const std::vector<LoadedColumn>& columns) = 0;
  // Prepares the insert of values for `columns` (table column names, in the
  // order Insert() gives values); empty = a row of default values.
  virtual Status PrepareInsert(const std::vector<std::string>& columns) = 0;
  // Inserts one row. A value the table refuses (a constraint) is
  // kInvalidData with the engine's message.
  virtual Status Insert(const std::vector<LoadValue>& values) = 0;
  virtual Status Commit() = 0;
};

// Checks the request's names: the database and table are identifiers
// ([A-Za-z_][A-Za-z0-9_]{0,63}, a table not starting with sqlite_), and so are
// LoadRequest::columns, whose types hold only [A-Za-z0-9_ ]. InvalidArgument
// with EngineFailure::kInvalidName otherwise. Engines call it before they
// touch their storage.
Status ValidateLoadRequest(const LoadRequest& request);

// Runs the load of `source` into `target` (ValidateLoadRequest() already
// passed): describes the table, infers types when creating without
// LoadRequest::columns, creates the table and inserts every record inside one
// transaction, reporting `progress` (may be empty). Errors at a record are
// prefixed "<source name>:<line>: ". On any error nothing is committed.
Result<LoadSummary> LoadInto(LoadTarget& target, const LoadRequest& request, RowSource& source,
                             const LoadProgressFn& progress);

// Shared by the sources and the driver.
//
// An integer: optional sign and decimal digits that fit in int64. When
// `strict`, a leading zero followed by more digits ("007", a zip code) is not
// an integer, so that type inference keeps such values as TEXT.
bool ParseLoadInteger(std::string_view s, bool strict, int64_t* out);
// A finite decimal number ("1.5", "-2e10", ".5"); no inf/nan/hex.
bool ParseLoadNumber(std::string_view s, bool strict, double* out);
// `value` cut to 40 bytes (with "...") and control characters blanked, for
// messages.
std::string ShortenForMessage(std::string_view value);

}  // namespace lakegate::engine
