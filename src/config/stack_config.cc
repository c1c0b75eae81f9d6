#include "config/stack_config.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/files.h"
#include "common/strings.h"
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
    {"mtls", &ParseMtls, false},
    {"tokens", &ParseTokens, false},
    {"limits", &ParseLimits, false},
    {"audit", &ParseAudit, false},
    {"metrics", &ParseMetrics, false},
    {"resource_servers", &ParseResourceServers, true},
    {"clients", &ParseClients, true},
    {"query", &ParseQuery, false},
    {"engine", &ParseEngine, false},
    {"roles", &ParseRoles, true},
    {"role_rules", &ParseRoleRules, false},
    {"trusted_issuers", &ParseTrustedIssuers, true},
    {"tags", &ParseTags, false},
    {"filters", &ParseFilters, true},
};

// Records where the top node of each document starts, and nothing else.
class DocumentMarks final : public YAML::EventHandler {
 public:
  const std::vector<YAML::Mark>& marks() const { return marks_; }

  void OnDocumentStart(const YAML::Mark&) override { in_document_ = true; }
  void OnDocumentEnd() override { in_document_ = false; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (in_document_) marks_.push_back(mark);
    in_document_ = false;  // only the document's top node
  }
  std::vector<YAML::Mark> marks_;
  bool in_document_ = false;
};

// The one document of the stack file. Not YAML::LoadAll: yaml-cpp 0.7 (Debian
// 12) loops forever in it, allocating until the process dies, when no rule
// consumes the next token (",A" does it; yaml-cpp issue #1040, fixed in 0.8 by
// pull request #1319): every round yields an empty document without moving on.
// So the documents are counted with a parser of our own that stops at the
// second one, and a second document whose top node starts where the first one
// did is that stuck token, reported as invalid YAML.
Result<YAML::Node> LoadOneDocument(const YamlReader& yaml, std::string_view text) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentMarks documents;
  while (documents.marks().size() < 2 && parser.HandleNextDocument(documents)) {
  }
  const std::vector<YAML::Mark>& marks = documents.marks();
  if (marks.size() > 1) {
    if (marks[1].pos == marks[0].pos) {
      const size_t pos = static_cast<size_t>(marks[0].pos);
      std::string token = "end of file";
      if (pos < text.size()) {
        const auto c = static_cast<unsigned char>(text[pos]);
        token = c >= 0x20 && c < 0x7f ? "\"" + std::string(1, text[pos]) + "\""
                                      : "byte " + std::to_string(c);
      }
      return InvalidArgumentError(yaml.Location(marks[0]) + "invalid YAML: unexpected " + token);
    }
    return InvalidArgumentError(yaml.Location(marks[1]) +
                                "a stack file holds one YAML document; remove the \"---\"");
  }
  YAML::Node root = YAML::Load(std::string(text));
  if (!root.IsDefined() || root.IsNull()) {
    return InvalidArgumentError(yaml.file() +
                                ":1:1: the stack file is empty; declare at least "
                                "resource_servers and clients");
  }
  return root;
}

Result<StackConfig> ParseDocument(const YamlReader& yaml, std::string_view text) {
  LG_ASSIGN_OR_RETURN(YAML::Node root, LoadOneDocument(yaml, text));
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

const std::string& QuerySpec::EngineFor(std::string_view database) const {
  for (const auto& [name, url] : engine_databases) {
    if (EqualsIgnoreCase(name, database)) return url;
  }
  return engine();
}

}  // namespace lakegate::config
