// The CSV and NDJSON readers of file_sources.h.
#include "engine/file_sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "engine/engine.h"
#include "engine/load_driver.h"

namespace lakegate::engine {
namespace {

constexpr size_t kReadBufferBytes = 1 << 20;
constexpr size_t kMaxLineBytes = 64u << 20;  // longest NDJSON line / CSV record
constexpr size_t kMaxColumns = 2000;         // SQLite's default SQLITE_MAX_COLUMN

Status Unreadable(StatusCode code, std::string message) {
  return Status(code, EngineFailure::kSourceUnreadable, std::move(message));
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
      if (errno == ENOENT) return Unreadable(StatusCode::kNotFound, "no such file: " + path);
      return Unreadable(StatusCode::kFailedPrecondition,
                        "cannot open " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        return Unreadable(StatusCode::kFailedPrecondition, path + " is a directory");
      }
      if (S_ISREG(st.st_mode)) total_ = static_cast<uint64_t>(st.st_size);
    }
    buffer_.resize(kReadBufferBytes);
    return Status::Ok();
  }
  Status Rewind() {
    if (::lseek(fd_, 0, SEEK_SET) != 0) {
      return Unreadable(StatusCode::kFailedPrecondition, std::string("cannot re-read the input: ") +
                                                             std::strerror(errno) +
                                                             " (use a regular file)");
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
    return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidData,
                  name_ + ":" + std::to_string(line) + ": " + what);
  }
  Status ReadError() const {
    return Unreadable(StatusCode::kFailedPrecondition,
                      "cannot read " + name_ + ": " + std::strerror(reader_.error()));
  }
  // Adds a column; InvalidArgument (at `line`) for a bad or duplicate name.
  Status AddColumn(const std::string& column, int64_t line) {
    if (!IsValidDatabaseName(column)) {
      return ErrorAt(line, "invalid column name '" + ShortenForMessage(column) +
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
  int64_t line_ = 1;                               // the line the reader is on
  int64_t record_line_ = 0;                        // where the last record started
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
      return ErrorAt(record_line_,
                     std::string("expected a JSON object, found ") + object.type_name());
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

}  // namespace

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

}  // namespace lakegate::engine
