// Bulk loading, the engine-independent part: what a caller hands to
// Engine::Load() (a request, a stream of records, a progress callback) and
// what it gets back. engine/file_sources.h reads CSV and NDJSON files into a
// RowSource; engine/load_driver.h runs a load for an engine.
//
// A load writes every record of the source in ONE transaction: either every
// row is loaded or nothing changes (a bad record rolls everything back,
// including a table the load created).
//
// Type rules. With `create` and a missing table, the table gets
// LoadRequest::columns when given; otherwise the source is read twice: a first
// pass infers each column's type -- INTEGER when every non-null value is a
// 64-bit integer, REAL when every one is numeric, else TEXT (a column with no
// value at all is TEXT) -- and the second pass inserts. Values written into a
// table must fit its declared type: an INTEGER column takes only integers,
// REAL/NUMERIC only numbers; TEXT and untyped columns take anything.
//
// Source columns must be identifiers ([A-Za-z_][A-Za-z0-9_]{0,63}), unique
// (case-insensitively), and each one must be a column of the table; table
// columns the source never mentions get their default value.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lakegate::engine {

// One field of a source record.
struct LoadField {
  enum class Kind {
    kNull,     // empty CSV field, JSON null, or a key missing from a JSON object
    kLiteral,  // CSV text, JSON number or boolean (as 1/0): the type follows the text
    kText,     // JSON string or nested object/array (as JSON): always TEXT
  };
  Kind kind = Kind::kNull;
  std::string text;
};

// A stream of records. columns() may grow while reading (NDJSON discovers keys
// as it goes); every record handed out by Next() has columns().size() fields.
// Errors carry EngineFailure::kInvalidData ("<name>:<line>: <what is wrong>")
// or kSourceUnreadable. Thread-compatible.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual const std::vector<std::string>& columns() const = 0;
  // Reads the next record into `row`. Returns false at the end.
  virtual Result<bool> Next(std::vector<LoadField>& row) = 0;
  // Starts again at the first record (columns() keeps what it has learned).
  virtual Status Rewind() = 0;
  // The 1-based physical line where the last record returned by Next() starts.
  virtual int64_t line() const = 0;
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t total_bytes() const = 0;     // 0 when unknown
  virtual const std::string& name() const = 0;  // the file name, for messages
};

struct LoadProgress {
  enum class Phase { kScanning, kLoading };  // kScanning: the type-inference pass
  Phase phase = Phase::kLoading;
  uint64_t bytes_read = 0;
  uint64_t total_bytes = 0;
  int64_t rows = 0;  // records read in this phase
};
// Called on the loading thread every few thousand records and once at the end
// of each phase; it must be cheap (throttle any output yourself).
using LoadProgressFn = std::function<void(const LoadProgress&)>;

struct LoadedColumn {
  std::string name;
  std::string type;  // the declared type, e.g. "INTEGER"; "" = untyped
};

struct LoadRequest {
  std::string database;
  std::string table;
  // Create the table, and its database, when missing.
  bool create = false;
  // With `create`: the columns of a table the load creates (declared types of
  // [A-Za-z0-9_ ] only); empty = inferred from the source.
  std::vector<LoadedColumn> columns = {};
  // With `create`: a table that already exists is left as it is and nothing
  // is loaded (the summary says 0 rows, not created).
  bool keep_existing = false;
};

struct LoadSummary {
  int64_t rows = 0;
  bool created = false;               // the table was created by this load
  std::vector<LoadedColumn> columns;  // the source's columns, with the table's types
  double seconds = 0;                 // wall-clock time of the whole load
};

}  // namespace lakegate::engine
