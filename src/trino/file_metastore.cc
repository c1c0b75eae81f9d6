#include "trino/file_metastore.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "engine/engine.h"

namespace lakegate::trino {
namespace {

// A table definition is a few KiB; anything far larger is not one.
constexpr std::streamsize kMaxDefinitionBytes = 4 << 20;

}  // namespace

std::vector<std::string> FileMetastoreColumns(const std::string& metastore_dir,
                                              std::string_view schema, std::string_view table) {
  // Plain identifiers only: the names become path components.
  if (!engine::IsValidDatabaseName(schema) || !engine::IsValidDatabaseName(table)) return {};
  std::ifstream in(
      metastore_dir + "/" + AsciiLower(schema) + "/" + AsciiLower(table) + "/.trinoSchema",
      std::ios::binary | std::ios::ate);
  if (!in) return {};
  // Sized by the file: the decision point reads it on every answer it
  // computes.
  const std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxDefinitionBytes) return {};
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), size)) return {};
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  std::vector<std::string> columns;
  for (const char* key : {"dataColumns", "partitionColumns"}) {
    auto list = doc.find(key);
    if (list == doc.end() || !list->is_array()) continue;
    for (const auto& c : *list) {
      if (!c.is_object()) return {};
      auto name = c.find("name");
      if (name == c.end() || !name->is_string()) return {};
      columns.push_back(name->get<std::string>());
    }
  }
  return columns;
}

}  // namespace lakegate::trino
