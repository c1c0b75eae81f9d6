// Bulk loading of CSV / NDJSON files into a lake table (`lakegate load`).
//
// A RowSource yields records as fields; LoadRows() writes them into
// <lake_dir>/<database>.db table `table` in ONE transaction with one prepared
// INSERT: either every row is loaded or nothing changes (a bad record rolls
// everything back, including a table that --create made).
//
// Type rules. With `create` and a missing table, the source is read twice: a
// first pass infers each column's type — INTEGER when every non-null value is
// a 64-bit integer, REAL when every one is numeric, else TEXT (a column with
// no value at all is TEXT) — and the second pass inserts. Values bound into an
// existing table must fit its declared type (SQLite affinity): an INTEGER
// column takes only integers, REAL/NUMERIC only numbers; TEXT and untyped
// columns take anything.
//
// Source columns must be identifiers ([A-Za-z_][A-Za-z0-9_]{0,63}), unique
// (case-insensitively, like SQLite), and when the table exists each one must
// be a column of it; table columns the source never mentions get their
// default value.
//
// Thread-compatible: one LoadRows() call per source; concurrent loads into the
// same database serialize on SQLite's write lock (busy timeout 5 s).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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
// Errors are InvalidArgument "<name>:<line>: <what is wrong>".
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
  virtual uint64_t total_bytes() const = 0;  // 0 when unknown
  virtual const std::string& name() const = 0;  // the file name, for messages
};

// Opens an RFC 4180 CSV file: the first record is the header (column names);
// fields are separated by ',', records by LF or CRLF; a quoted field may hold
// commas, line breaks and "" (one quote). A UTF-8 BOM is skipped and blank
// lines are ignored. Empty unquoted fields are NULL; "" (quoted empty) is an
// empty string. NotFound / FailedPrecondition when the file cannot be read,
// InvalidArgument for a bad header.
Result<std::unique_ptr<RowSource>> OpenCsvSource(const std::string& path);
// Opens an NDJSON file: one JSON object per line (blank lines are ignored).
Result<std::unique_ptr<RowSource>> OpenNdjsonSource(const std::string& path);

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
  std::string type;  // the declared type, e.g. "INTEGER"
};

struct LoadSummary {
  int64_t rows = 0;
  bool created = false;               // the table was created by this load
  std::vector<LoadedColumn> columns;  // the source's columns, with the table's types
  double seconds = 0;                 // wall-clock time of the whole load
};

// Loads every record of `source` into `database`.`table` (see the top of this
// file). Creates the database file (0600) when missing. Errors:
//   InvalidArgument   bad database/table/column name, a bad record
//                     ("<file>:<line>: ..."), columns that do not match
//   NotFound          the table does not exist and `create` is false
//   Internal          SQLite failures
// On any error nothing is written.
Result<LoadSummary> LoadRows(const std::string& lake_dir, const std::string& database,
                             const std::string& table, RowSource& source, bool create,
                             const LoadProgressFn& progress = nullptr);

// "name" with embedded quotes doubled: a safe SQL identifier.
std::string QuoteIdentifier(std::string_view name);

}  // namespace lakegate::engine
