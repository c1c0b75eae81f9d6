// RowSources over files: CSV and NDJSON, read in 1 MiB blocks. Every error
// carries an EngineFailure: kSourceUnreadable when the file cannot be opened
// or read, kInvalidData ("<file>:<line>: <what is wrong>") for bad content.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "engine/load.h"

namespace lakegate::engine {

// Opens an RFC 4180 CSV file: the first record is the header (column names);
// fields are separated by ',', records by LF or CRLF; a quoted field may hold
// commas, line breaks and "" (one quote). A UTF-8 BOM is skipped and blank
// lines are ignored. Empty unquoted fields are NULL; "" (quoted empty) is an
// empty string. NotFound / FailedPrecondition when the file cannot be read,
// InvalidArgument for a bad header.
Result<std::unique_ptr<RowSource>> OpenCsvSource(const std::string& path);
// Opens an NDJSON file: one JSON object per line (blank lines are ignored).
Result<std::unique_ptr<RowSource>> OpenNdjsonSource(const std::string& path);

}  // namespace lakegate::engine
