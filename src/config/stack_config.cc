#include "config/stack_config.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/files.h"
#include "config/stack_sections.h"
#include "config/yaml_reader.h"

namespace lakegate::config {
namespace {

constexpr size_t kMaxStackFileBytes = 4 << 20;

// One top-level section of the stack file. To add a section: add a member of
// StackConfig, a parser in stack_sections.h and one row here.
struct Section {
  const char* key;
  SectionParser parse;
  bool allow_null;  // "clients:" with nothing under it = an empty list
};
constexpr Section kSections[] = {
    {"version", &ParseVersion, false},
    {"issuer", &ParseIssuer, false},
    {"state_dir", &ParseStateDir, false},
    {"state", &ParseState, false},
    {"listen", &ParseListen, false},
    {"tokens", &ParseTokens, false},
    {"limits", &ParseLimits, false},
    {"audit", &ParseAudit, false},
    {"metrics", &ParseMetrics, false},
    {"resource_servers", &ParseResourceServers, true},
    {"clients", &ParseClients, true},
    {"query", &ParseQuery, false},
    {"roles", &ParseRoles, true},
    {"role_rules", &ParseRoleRules, false},
    {"trusted_issuers", &ParseTrustedIssuers, true},
    {"tags", &ParseTags, false},
    {"filters", &ParseFilters, true},
};

Result<StackConfig> ParseDocument(const YamlReader& yaml, std::string_view text) {
  std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
  if (documents.empty() || documents[0].IsNull()) {
    return InvalidArgumentError(yaml.file() +
                                ":1:1: the stack file is empty; declare at least "
                                "resource_servers and clients");
  }
  if (documents.size() > 1) {
    return yaml.Error(documents[1], "", "a stack file holds one YAML document; remove the \"---\"");
  }
  const YAML::Node& root = documents[0];
  StackConfig config;
  config.source_path = yaml.file();
  config.state_dir = yaml.ResolvePath("state");
  config.query.lake_dir = yaml.ResolvePath("lake");
  StackParse parse{yaml, root, config};

  std::vector<YamlReader::Field> fields;
  for (const Section& section : kSections) {
    YamlReader::Field field;
    field.key = section.key;
    field.allow_null = section.allow_null;
    field.handle = [&parse, section](const YAML::Node& value, const std::string& path) {
      return section.parse(parse, value, path);
    };
    fields.push_back(std::move(field));
  }
  LG_RETURN_IF_ERROR(yaml.ParseMap(root, "", "", fields));
  LG_RETURN_IF_ERROR(CheckScopeReferences(parse));
  LG_RETURN_IF_ERROR(CheckRoleReferences(parse));
  LG_RETURN_IF_ERROR(CheckIssuerReferences(parse));
  LG_RETURN_IF_ERROR(CheckGovernance(parse));
  return config;
}

}  // namespace

policy::PolicySnapshot PolicyOf(const StackConfig& stack) {
  policy::PolicySnapshot snapshot;
  for (const auto& role : stack.roles) snapshot.roles.emplace(role.name, role);
  for (const auto& filter : stack.filters) snapshot.filters.emplace(filter.name, filter);
  snapshot.tag_keys = stack.tag_keys;
  snapshot.tag_assignments = stack.tag_assignments;
  return snapshot;
}

Result<StackConfig> ParseStack(std::string_view yaml_text, std::string_view file_name,
                               std::string_view base_dir) {
  YamlReader yaml(file_name, base_dir, yaml_text);
  try {
    return ParseDocument(yaml, yaml_text);
  } catch (const YAML::DeepRecursion& e) {
    return InvalidArgumentError(yaml.Location(e.mark) + "invalid YAML: nested too deeply");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(yaml.Location(e.mark) + "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(yaml.file() + ": cannot parse: " + e.what());
  }
}

Result<StackConfig> LoadStackFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFoundError("stack file " + path + " does not exist; check the path");
    }
    return FailedPreconditionError("cannot read stack file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError("stack file " + path + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxStackFileBytes) {
    return FailedPreconditionError("stack file " + path +
                                   " is larger than 4 MiB; is it the "
                                   "right file?");
  }
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return text.status();
    return FailedPreconditionError("cannot read stack file " + path + ": " +
                                   text.status().message());
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return FailedPreconditionError("cannot resolve the directory of stack file " + path + ": " +
                                   ec.message());
  }
  std::string base_dir = absolute.lexically_normal().parent_path().string();
  return ParseStack(*text, path, base_dir);
}

}  // namespace lakegate::config
