// CSV / NDJSON readers and the transactional bulk loader of loader.h.
#include "engine/sqlite/loader.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "common/strings.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::engine {
namespace {

constexpr size_t kReadBufferBytes = 1 << 20;
constexpr size_t kMaxLineBytes = 64u << 20;  // longest NDJSON line / CSV record
constexpr size_t kMaxColumns = 2000;         // SQLite's default SQLITE_MAX_COLUMN
constexpr int64_t kProgressEveryRows = 8192;

bool IsIdentifier(std::string_view name) { return IsValidDatabaseName(name); }

std::string Shorten(std::string_view value) {
  constexpr size_t kMax = 40;
  std::string out = value.size() <= kMax ? std::string(value)
                                         : std::string(value.substr(0, kMax)) + "...";
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

// ---------------------------------------------------------------------------
// Number syntax.

// An integer: optional sign and decimal digits that fit in int64. When
// `strict`, a leading zero followed by more digits ("007", a zip code) is not
// an integer, so that type inference keeps such values as TEXT.
bool ParseInteger(std::string_view s, bool strict, int64_t* out) {
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

// A finite decimal number ("1.5", "-2e10", ".5"); no inf/nan/hex.
bool ParseNumber(std::string_view s, bool strict, double* out) {
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

// ---------------------------------------------------------------------------
// Buffered reading of a regular file (or anything read() works on).

class FileReader {
 public:
  ~FileReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) return NotFoundError("no such file: " + path);
      return FailedPreconditionError("cannot open " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
      if (S_ISDIR(st.st_mode)) return FailedPreconditionError(path + " is a directory");
      if (S_ISREG(st.st_mode)) total_ = static_cast<uint64_t>(st.st_size);
    }
    buffer_.resize(kReadBufferBytes);
    return Status::Ok();
  }
  Status Rewind() {
    if (::lseek(fd_, 0, SEEK_SET) != 0) {
      return FailedPreconditionError(std::string("cannot re-read the input: ") +
                                     std::strerror(errno) + " (use a regular file)");
    }
    pos_ = len_ = 0;
    consumed_ = 0;
    error_ = 0;
    return Status::Ok();
  }
  // Returns the next byte, or -1 at the end (or on a read error: see error()).
  int Get() {
    if (pos_ == len_ && !Fill()) return -1;
    ++consumed_;
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int Peek() {
    if (pos_ == len_ && !Fill()) return -1;
    return static_cast<unsigned char>(buffer_[pos_]);
  }
  uint64_t consumed() const { return consumed_; }
  uint64_t total() const { return total_; }
  int error() const { return error_; }

 private:
  bool Fill() {
    for (;;) {
      ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error_ = errno;
      if (n <= 0) return false;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
      return true;
    }
  }

  int fd_ = -1;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t len_ = 0;
  uint64_t consumed_ = 0;
  uint64_t total_ = 0;
  int error_ = 0;
};

// Base for the two readers: file, name, line numbers, column names.
class FileSource : public RowSource {
 public:
  explicit FileSource(std::string name) : name_(std::move(name)) {}
  const std::vector<std::string>& columns() const override { return columns_; }
  int64_t line() const override { return record_line_; }
  uint64_t bytes_read() const override { return reader_.consumed(); }
  uint64_t total_bytes() const override { return reader_.total(); }
  const std::string& name() const override { return name_; }

 protected:
  Status ErrorAt(int64_t line, const std::string& what) const {
    return InvalidArgumentError(name_ + ":" + std::to_string(line) + ": " + what);
  }
  Status ReadError() const {
    return FailedPreconditionError("cannot read " + name_ + ": " + std::strerror(reader_.error()));
  }
  // Adds a column; InvalidArgument (at `line`) for a bad or duplicate name.
  Status AddColumn(const std::string& column, int64_t line) {
    if (!IsIdentifier(column)) {
      return ErrorAt(line, "invalid column name '" + Shorten(column) +
                               "': use [A-Za-z_][A-Za-z0-9_]{0,63}");
    }
    if (!index_.emplace(AsciiLower(column), columns_.size()).second) {
      return ErrorAt(line, "duplicate column '" + column + "'");
    }
    if (columns_.size() >= kMaxColumns) {
      return ErrorAt(line, "more than " + std::to_string(kMaxColumns) + " columns");
    }
    columns_.push_back(column);
    return Status::Ok();
  }
  // Skips a UTF-8 byte order mark at the start of the file.
  void SkipBom() {
    if (reader_.Peek() == 0xEF) {
      reader_.Get();
      if (reader_.Peek() == 0xBB) reader_.Get();
      if (reader_.Peek() == 0xBF) reader_.Get();
    }
  }

  std::string name_;
  FileReader reader_;
  std::vector<std::string> columns_;
  std::unordered_map<std::string, size_t> index_;  // lower-case name -> position
  int64_t line_ = 1;         // the line the reader is on
  int64_t record_line_ = 0;  // where the last record started
};

class CsvSource final : public FileSource {
 public:
  using FileSource::FileSource;

  Status Open(const std::string& path) {
    LG_RETURN_IF_ERROR(reader_.Open(path));
    return ReadHeader();
  }

  Result<bool> Next(std::vector<LoadField>& row) override {
    LG_ASSIGN_OR_RETURN(bool more, ReadRecord(row));
    if (!more) return false;
    if (row.size() != columns_.size()) {
      return ErrorAt(record_line_, "expected " + std::to_string(columns_.size()) +
                                       " fields (the header's), found " +
                                       std::to_string(row.size()));
    }
    return true;
  }

  Status Rewind() override {
    LG_RETURN_IF_ERROR(reader_.Rewind());
    line_ = 1;
    std::vector<LoadField> header;
    SkipBom();
    LG_ASSIGN_OR_RETURN(bool more, ReadRecord(header));
    (void)more;
    return Status::Ok();
  }

 private:
  Status ReadHeader() {
    SkipBom();
    std::vector<LoadField> header;
    LG_ASSIGN_OR_RETURN(bool more, ReadRecord(header));
    if (!more) return ErrorAt(1, "empty file: the first line must name the columns");
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].text.empty()) {
        return ErrorAt(record_line_, "header field " + std::to_string(i + 1) +
                                         " is empty: every column needs a name");
      }
      LG_RETURN_IF_ERROR(AddColumn(header[i].text, record_line_));
    }
    return Status::Ok();
  }

  // True when `c` ends a record (LF, or CR followed by LF, which it consumes).
  bool EndOfLine(int c) {
    if (c == '\n') return true;
    if (c == '\r' && reader_.Peek() == '\n') {
      reader_.Get();
      return true;
    }
    return false;
  }

  Result<bool> ReadRecord(std::vector<LoadField>& fields) {
    fields.clear();
    int c = reader_.Get();
    while (c != -1 && EndOfLine(c)) {  // blank lines
      ++line_;
      c = reader_.Get();
    }
    if (c == -1) {
      if (reader_.error() != 0) return ReadError();
      return false;
    }
    record_line_ = line_;
    size_t record_bytes = 0;
    for (;;) {
      LoadField field;
      std::string& text = field.text;
      bool quoted = false;
      if (c == '"') {
        quoted = true;
        for (;;) {
          c = reader_.Get();
          if (c == -1) {
            if (reader_.error() != 0) return ReadError();
            return ErrorAt(record_line_, "unterminated quoted field in field " +
                                             std::to_string(fields.size() + 1));
          }
          if (c == '"') {
            if (reader_.Peek() != '"') break;
            reader_.Get();
          } else if (c == '\n') {
            ++line_;
          }
          text.push_back(static_cast<char>(c));
          if (++record_bytes > kMaxLineBytes) return ErrorAt(record_line_, "record too long");
        }
        c = reader_.Get();
        if (c != ',' && c != -1 && c != '\n' && !(c == '\r' && reader_.Peek() == '\n')) {
          return ErrorAt(record_line_, "unexpected character after the closing quote of field " +
                                           std::to_string(fields.size() + 1) +
                                           " (a quote inside a quoted field is written \"\")");
        }
      } else {
        // An unquoted field runs to the next comma or line end; a stray quote
        // inside it is kept as a character.
        while (c != ',' && c != -1 && c != '\n' && !(c == '\r' && reader_.Peek() == '\n')) {
          text.push_back(static_cast<char>(c));
          if (++record_bytes > kMaxLineBytes) return ErrorAt(record_line_, "record too long");
          c = reader_.Get();
        }
      }
      field.kind = (!quoted && text.empty()) ? LoadField::Kind::kNull : LoadField::Kind::kLiteral;
      fields.push_back(std::move(field));
      if (fields.size() > kMaxColumns) {
        return ErrorAt(record_line_, "more than " + std::to_string(kMaxColumns) + " fields");
      }
      if (c == ',') {
        c = reader_.Get();
        continue;
      }
      if (c == -1) {
        if (reader_.error() != 0) return ReadError();
        return true;
      }
      EndOfLine(c);  // consumes the LF of a CRLF
      ++line_;
      return true;
    }
  }
};

class NdjsonSource final : public FileSource {
 public:
  using FileSource::FileSource;

  Status Open(const std::string& path) {
    LG_RETURN_IF_ERROR(reader_.Open(path));
    SkipBom();
    return Status::Ok();
  }

  Result<bool> Next(std::vector<LoadField>& row) override {
    std::string line;
    for (;;) {
      line.clear();
      int c = reader_.Get();
      if (c == -1) {
        if (reader_.error() != 0) return ReadError();
        return false;
      }
      while (c != -1 && c != '\n') {
        line.push_back(static_cast<char>(c));
        if (line.size() > kMaxLineBytes) return ErrorAt(line_, "line longer than 64 MiB");
        c = reader_.Get();
      }
      if (c == -1 && reader_.error() != 0) return ReadError();
      record_line_ = line_++;
      if (!TrimWhitespace(line).empty()) break;
    }
    nlohmann::ordered_json object;
    try {
      object = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      std::string what = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
      if (size_t at = what.find("column"); at != std::string::npos) what = what.substr(at);
      return ErrorAt(record_line_, "invalid JSON: " + what);
    }
    if (!object.is_object()) {
      return ErrorAt(record_line_, std::string("expected a JSON object, found ") +
                                       object.type_name());
    }
    row.assign(columns_.size(), LoadField{});
    for (auto& [key, value] : object.items()) {
      size_t index;
      if (auto it = index_.find(AsciiLower(key)); it != index_.end()) {
        index = it->second;
      } else {
        LG_RETURN_IF_ERROR(AddColumn(key, record_line_));
        index = columns_.size() - 1;
        row.emplace_back();
      }
      LoadField& field = row[index];
      if (field.kind != LoadField::Kind::kNull || !field.text.empty()) {
        return ErrorAt(record_line_, "key '" + key + "' appears twice (keys are case-insensitive)");
      }
      switch (value.type()) {
        case nlohmann::ordered_json::value_t::null:
          field.text = " ";  // marks "seen" for the duplicate check; still NULL
          break;
        case nlohmann::ordered_json::value_t::boolean:
          field.kind = LoadField::Kind::kLiteral;
          field.text = value.get<bool>() ? "1" : "0";
          break;
        case nlohmann::ordered_json::value_t::number_integer:
          field.kind = LoadField::Kind::kLiteral;
          field.text = std::to_string(value.get<int64_t>());
          break;
        case nlohmann::ordered_json::value_t::number_unsigned:
          field.kind = LoadField::Kind::kLiteral;
          field.text = std::to_string(value.get<uint64_t>());
          break;
        case nlohmann::ordered_json::value_t::number_float:
          field.kind = LoadField::Kind::kLiteral;
          field.text = value.dump();
          break;
        case nlohmann::ordered_json::value_t::string:
          field.kind = LoadField::Kind::kText;
          field.text = value.get<std::string>();
          break;
        default:  // object, array (binary cannot come from text)
          field.kind = LoadField::Kind::kText;
          field.text = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
          break;
      }
    }
    for (LoadField& field : row) {
      if (field.kind == LoadField::Kind::kNull) field.text.clear();
    }
    return true;
  }

  Status Rewind() override {
    LG_RETURN_IF_ERROR(reader_.Rewind());
    line_ = 1;
    SkipBom();
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------
// SQLite side.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
struct StmtCloser {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

Status SqliteError(sqlite3* db, std::string_view what) {
  return InternalError(std::string(what) + ": sqlite: " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return InternalError("sqlite: " + message);
  }
  return Status::Ok();
}

Result<StmtPtr> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    return SqliteError(db, "prepare");
  }
  return StmtPtr(raw);
}

Result<DbPtr> OpenDatabase(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return InternalError("cannot open " + path + ": " +
                         (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  LG_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA cache_size=-65536"));
  return db;
}

// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html §3.1).
enum class Affinity { kInteger, kText, kBlob, kReal, kNumeric };
Affinity AffinityOf(std::string_view declared) {
  std::string t = AsciiLower(declared);
  if (t.find("int") != std::string::npos) return Affinity::kInteger;
  if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos ||
      t.find("text") != std::string::npos) {
    return Affinity::kText;
  }
  if (t.empty() || t.find("blob") != std::string::npos) return Affinity::kBlob;
  if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos ||
      t.find("doub") != std::string::npos) {
    return Affinity::kReal;
  }
  return Affinity::kNumeric;
}

struct TableColumn {
  std::string name;
  std::string type;
};

// The table's columns, or nullopt when there is no such table.
Result<std::optional<std::vector<TableColumn>>> ReadTable(sqlite3* db, const std::string& table) {
  LG_ASSIGN_OR_RETURN(StmtPtr kind,
                      Prepare(db, "SELECT type FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE"));
  sqlite3_bind_text(kind.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
  int rc = sqlite3_step(kind.get());
  if (rc == SQLITE_DONE) return std::optional<std::vector<TableColumn>>();
  if (rc != SQLITE_ROW) return SqliteError(db, "reading the schema");
  std::string type = reinterpret_cast<const char*>(sqlite3_column_text(kind.get(), 0));
  if (type != "table") {
    return InvalidArgumentError("'" + table + "' is a " + type + ", not a table");
  }
  LG_ASSIGN_OR_RETURN(StmtPtr info, Prepare(db, "PRAGMA table_info(" + QuoteIdentifier(table) + ")"));
  std::vector<TableColumn> columns;
  while ((rc = sqlite3_step(info.get())) == SQLITE_ROW) {
    auto text = [&](int i) {
      const unsigned char* p = sqlite3_column_text(info.get(), i);
      return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    };
    columns.push_back({text(1), text(2)});
  }
  if (rc != SQLITE_DONE) return SqliteError(db, "reading the table's columns");
  return std::optional<std::vector<TableColumn>>(std::move(columns));
}

// Rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) Exec(db_, "ROLLBACK").IgnoreError();
  }
  Status Begin() {
    LG_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
    open_ = true;
    return Status::Ok();
  }
  Status Commit() {
    LG_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
    open_ = false;
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

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
    if (all_integer && !ParseInteger(f.text, /*strict=*/true, nullptr)) all_integer = false;
    if (all_number && !all_integer && !ParseNumber(f.text, /*strict=*/true, nullptr)) {
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

// Binds `field` to parameter `index` for a column of `affinity`; explains a
// value that cannot fit.
Status Bind(sqlite3_stmt* stmt, int index, const LoadField& field, Affinity affinity,
            const std::string& column, const std::string& declared) {
  int rc = SQLITE_OK;
  auto bind_text = [&] {
    return sqlite3_bind_text64(stmt, index, field.text.data(), field.text.size(), SQLITE_STATIC,
                               SQLITE_UTF8);
  };
  auto mismatch = [&](const char* want) {
    return InvalidArgumentError("column '" + column + "' is " + declared + " but the value '" +
                                Shorten(field.text) + "' is not " + want);
  };
  if (field.kind == LoadField::Kind::kNull) {
    rc = sqlite3_bind_null(stmt, index);
  } else {
    int64_t i = 0;
    double d = 0;
    switch (affinity) {
      case Affinity::kText:
        rc = bind_text();
        break;
      case Affinity::kInteger:
        if (ParseInteger(field.text, false, &i)) {
          rc = sqlite3_bind_int64(stmt, index, i);
        } else if (ParseNumber(field.text, false, &d) && d == std::trunc(d) &&
                   std::fabs(d) < 9.2e18) {
          rc = sqlite3_bind_int64(stmt, index, static_cast<int64_t>(d));
        } else {
          return mismatch("an integer");
        }
        break;
      case Affinity::kReal:
        if (!ParseNumber(field.text, false, &d)) return mismatch("a number");
        rc = sqlite3_bind_double(stmt, index, d);
        break;
      case Affinity::kNumeric:
        if (ParseInteger(field.text, false, &i)) {
          rc = sqlite3_bind_int64(stmt, index, i);
        } else if (ParseNumber(field.text, false, &d)) {
          rc = sqlite3_bind_double(stmt, index, d);
        } else {
          return mismatch("a number");
        }
        break;
      case Affinity::kBlob:  // no affinity: keep what the value looks like
        if (field.kind == LoadField::Kind::kLiteral && ParseInteger(field.text, true, &i)) {
          rc = sqlite3_bind_int64(stmt, index, i);
        } else if (field.kind == LoadField::Kind::kLiteral && ParseNumber(field.text, true, &d)) {
          rc = sqlite3_bind_double(stmt, index, d);
        } else {
          rc = bind_text();
        }
        break;
    }
  }
  if (rc != SQLITE_OK) return InternalError("sqlite: cannot bind a value (code " +
                                            std::to_string(rc) + ")");
  return Status::Ok();
}

std::string ListNames(const std::vector<TableColumn>& columns) {
  std::string out;
  for (const TableColumn& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::unique_ptr<RowSource>> OpenCsvSource(const std::string& path) {
  auto source = std::make_unique<CsvSource>(path);
  LG_RETURN_IF_ERROR(source->Open(path));
  return std::unique_ptr<RowSource>(std::move(source));
}

Result<std::unique_ptr<RowSource>> OpenNdjsonSource(const std::string& path) {
  auto source = std::make_unique<NdjsonSource>(path);
  LG_RETURN_IF_ERROR(source->Open(path));
  return std::unique_ptr<RowSource>(std::move(source));
}

Result<LoadSummary> LoadRows(const std::string& lake_dir, const std::string& database,
                             const std::string& table, RowSource& source, bool create,
                             const LoadProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (!IsValidDatabaseName(database)) {
    return InvalidArgumentError("invalid database name '" + Shorten(database) +
                                "': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  }
  if (!IsIdentifier(table) || AsciiLower(table).rfind("sqlite_", 0) == 0) {
    return InvalidArgumentError("invalid table name '" + Shorten(table) +
                                "': use [A-Za-z_][A-Za-z0-9_]{0,63}, not starting with sqlite_");
  }
  const std::string qualified = database + "." + table;
  const std::string path = lake_dir + "/" + database + ".db";
  // Only create the database file when the table may be created too.
  if (!create && ::access(path.c_str(), F_OK) != 0) {
    return NotFoundError("database '" + database + "' does not exist (no " + path +
                         "); pass --create to create " + qualified + " from the file");
  }
  LG_RETURN_IF_ERROR(CreateDatabaseIfMissing(lake_dir, database));
  LG_ASSIGN_OR_RETURN(DbPtr db, OpenDatabase(path));

  auto report = [&](LoadProgress::Phase phase, int64_t rows) {
    if (progress) progress({phase, source.bytes_read(), source.total_bytes(), rows});
  };
  auto at_line = [&](const Status& s) {
    return Status(s.code(), source.name() + ":" + std::to_string(source.line()) + ": " +
                                s.message());
  };

  LG_ASSIGN_OR_RETURN(auto existing, ReadTable(db.get(), table));
  if (!existing && !create) {
    return NotFoundError("table " + qualified + " does not exist; pass --create to create it "
                         "with column types inferred from the file");
  }

  std::vector<LoadField> row;
  std::vector<std::string> types;  // declared type per source column (create path)
  if (!existing) {
    // Pass 1: infer the column types.
    std::vector<Inferred> inferred;
    int64_t rows = 0;
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool more, source.Next(row));
      if (!more) break;
      inferred.resize(row.size());
      for (size_t i = 0; i < row.size(); ++i) inferred[i].Add(row[i]);
      if (++rows % kProgressEveryRows == 0) report(LoadProgress::Phase::kScanning, rows);
    }
    report(LoadProgress::Phase::kScanning, rows);
    if (source.columns().empty()) {
      return InvalidArgumentError(source.name() + ": no columns found (an NDJSON file needs at "
                                  "least one object with a key)");
    }
    inferred.resize(source.columns().size());
    for (const Inferred& i : inferred) types.push_back(i.Type());
    LG_RETURN_IF_ERROR(source.Rewind());
  }

  Transaction txn(db.get());
  LG_RETURN_IF_ERROR(txn.Begin());
  std::vector<TableColumn> table_columns;
  LoadSummary summary;
  if (!existing) {
    // Created inside the transaction: a failed load leaves no table behind.
    LG_ASSIGN_OR_RETURN(auto again, ReadTable(db.get(), table));
    if (again) {
      return FailedPreconditionError("table " + qualified +
                                     " was created by someone else during the load; run it again");
    }
    std::string ddl = "CREATE TABLE " + QuoteIdentifier(table) + "(";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i > 0) ddl += ", ";
      ddl += QuoteIdentifier(source.columns()[i]) + " " + types[i];
      table_columns.push_back({source.columns()[i], types[i]});
    }
    ddl += ")";
    LG_RETURN_IF_ERROR(Exec(db.get(), ddl));
    summary.created = true;
  } else {
    table_columns = std::move(*existing);
  }

  // Maps source columns to table columns; the INSERT is (re)prepared when the
  // source learns new columns (NDJSON keys first seen on a later line).
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < table_columns.size(); ++i) {
    by_name.emplace(AsciiLower(table_columns[i].name), i);
  }
  std::vector<size_t> mapping;  // source column -> table column
  std::vector<Affinity> affinity;
  StmtPtr insert;
  auto prepare_insert = [&]() -> Status {
    const auto& names = source.columns();
    std::vector<std::string> unknown;
    for (size_t i = mapping.size(); i < names.size(); ++i) {
      auto it = by_name.find(AsciiLower(names[i]));
      if (it == by_name.end()) {
        unknown.push_back(names[i]);
        continue;
      }
      mapping.push_back(it->second);
      affinity.push_back(AffinityOf(table_columns[it->second].type));
    }
    if (!unknown.empty()) {
      return InvalidArgumentError("column(s) " + Join(unknown, ", ") + " of the file are not in " +
                                  qualified + ", whose columns are: " +
                                  ListNames(table_columns));
    }
    std::string sql = "INSERT INTO " + QuoteIdentifier(table) + "(";
    std::string values = ") VALUES(";
    for (size_t i = 0; i < mapping.size(); ++i) {
      if (i > 0) {
        sql += ", ";
        values += ", ";
      }
      sql += QuoteIdentifier(table_columns[mapping[i]].name);
      values += "?" + std::to_string(i + 1);
    }
    if (mapping.empty()) {
      insert.reset();
      return Status::Ok();
    }
    LG_ASSIGN_OR_RETURN(insert, Prepare(db.get(), sql + values + ")"));
    return Status::Ok();
  };
  if (Status s = prepare_insert(); !s.ok()) {
    return Status(s.code(), source.name() + ": " + s.message());
  }

  // Pass 2 (or the only pass): insert.
  int64_t rows = 0;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool more, source.Next(row));
    if (!more) break;
    if (row.size() != mapping.size()) {
      if (Status s = prepare_insert(); !s.ok()) return at_line(s);
    }
    if (insert == nullptr) {
      // An NDJSON object with no keys: every column gets its default.
      Status s = Exec(db.get(), "INSERT INTO " + QuoteIdentifier(table) + " DEFAULT VALUES");
      if (!s.ok()) return at_line(InvalidArgumentError(s.message()));
    } else {
      for (size_t i = 0; i < row.size(); ++i) {
        const TableColumn& column = table_columns[mapping[i]];
        Status s = Bind(insert.get(), static_cast<int>(i + 1), row[i], affinity[i], column.name,
                        column.type);
        if (!s.ok()) return at_line(s);
      }
      int rc = sqlite3_step(insert.get());
      if (rc != SQLITE_DONE) {
        // Constraint violations (NOT NULL, UNIQUE, CHECK) are the file's fault.
        Status s = (rc & 0xff) == SQLITE_CONSTRAINT
                       ? InvalidArgumentError(sqlite3_errmsg(db.get()))
                       : SqliteError(db.get(), "insert");
        return at_line(s);
      }
      sqlite3_reset(insert.get());
    }
    if (++rows % kProgressEveryRows == 0) report(LoadProgress::Phase::kLoading, rows);
  }
  insert.reset();
  LG_RETURN_IF_ERROR(txn.Commit());
  report(LoadProgress::Phase::kLoading, rows);

  summary.rows = rows;
  for (size_t i = 0; i < mapping.size(); ++i) {
    summary.columns.push_back({source.columns()[i], table_columns[mapping[i]].type});
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace lakegate::engine
