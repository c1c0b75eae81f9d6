#include "config/yaml_reader.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "common/strings.h"

namespace lakegate::config {
namespace {

std::string_view KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// Levenshtein distance, for did-you-mean hints.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Decimal digits with an optional leading '-', at most 18 digits.
std::optional<int64_t> ParseDecimal(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

}  // namespace

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string Child(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string Index(std::string_view prefix, size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    size_t d = EditDistance(AsciiLower(word), AsciiLower(candidate));
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best && (best_distance <= 2 || best_distance <= word.size() / 3)) return best;
  // An abbreviation: "desc" for "description".
  if (word.size() >= 3) {
    for (const std::string& candidate : candidates) {
      if (candidate.rfind(word, 0) == 0) return candidate;
    }
  }
  return std::nullopt;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> match = ClosestMatch(word, candidates);
  return match ? "; did you mean " + Quoted(*match) + "?" : "";
}

std::string Duplicate(std::string_view what, std::string_view name, int first_line) {
  return "duplicate " + std::string(what) + " " + Quoted(name) + " (first declared at line " +
         std::to_string(first_line) + ")";
}

YamlReader::YamlReader(std::string_view file_name, std::string_view base_dir, std::string_view text)
    : file_(file_name), base_dir_(base_dir), text_(text) {}

std::string YamlReader::Location(const YAML::Mark& mark) const {
  if (mark.is_null()) return file_ + ": ";
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

Status YamlReader::ErrorAt(const YAML::Mark& mark, std::string_view path,
                           std::string_view message) const {
  std::string text = Location(mark);
  if (!path.empty()) {
    text += path;
    text += ": ";
  }
  text += message;
  return InvalidArgumentError(std::move(text));
}

Status YamlReader::Error(const YAML::Node& node, std::string_view path,
                         std::string_view message) const {
  return ErrorAt(node.Mark(), path, message);
}

Status YamlReader::ParseMap(const YAML::Node& node, const std::string& label,
                            const std::string& prefix, const std::vector<Field>& fields) const {
  if (!node.IsMap()) {
    return Error(node, label,
                 "expected a mapping (key: value lines), got " + std::string(KindOf(node)));
  }
  std::map<std::string, int> seen;  // key -> line (1-based)
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: the iterator's proxy does not outlive this statement.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      return Error(key_node, label,
                   "keys must be plain names, got " + std::string(KindOf(key_node)));
    }
    const std::string& key = key_node.Scalar();
    auto [previous, inserted] = seen.emplace(key, key_node.Mark().line + 1);
    if (!inserted) {
      return Error(key_node, label,
                   "duplicate key " + Quoted(key) + " (first at line " +
                       std::to_string(previous->second) + "); remove one of them");
    }
    auto field =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.key == key; });
    if (field == fields.end()) {
      std::vector<std::string> known;
      for (const Field& f : fields) known.push_back(f.key);
      std::string message = "unknown key " + Quoted(key);
      std::string hint = DidYouMean(key, known);
      message += hint.empty() ? "; valid keys are " + Join(known, ", ") : hint;
      return Error(key_node, label, message);
    }
    std::string path = Child(prefix, key);
    if (value.IsNull()) {
      if (field->allow_null) continue;
      // yaml-cpp places an empty value on the next line; point at the key.
      return Error(key_node, path, "has no value; give it one or remove the key");
    }
    LG_RETURN_IF_ERROR(field->handle(value, path));
  }
  for (const Field& field : fields) {
    if (field.required && seen.count(field.key) == 0) {
      return Error(node, label, "missing required key " + Quoted(field.key));
    }
  }
  return Status::Ok();
}

Status YamlReader::CheckUnique(NameLines& seen, const std::string& name, const YAML::Node& node,
                               const std::string& path, std::string_view what,
                               std::string_view fix) const {
  auto [previous, inserted] = seen.emplace(name, Line(node));
  if (inserted) return Status::Ok();
  return Error(node, path, Duplicate(what, name, previous->second) + std::string(fix));
}

Status YamlReader::ParseList(const YAML::Node& node, const std::string& path,
                             const ItemHandler& each) const {
  if (!node.IsSequence()) {
    return Error(node, path,
                 "expected a list (\"- item\" lines or [a, b]), got " + std::string(KindOf(node)));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    if (item.IsNull()) {
      return ErrorAt(MarkOfEmptyItem(item.Mark()), Index(path, i),
                     "is empty; give the item a value or remove the \"-\"");
    }
    LG_RETURN_IF_ERROR(each(item, i, Index(path, i)));
  }
  return Status::Ok();
}

Result<std::string> YamlReader::ReadString(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) {
    return Error(node, path, "expected a string, got " + std::string(KindOf(node)));
  }
  return node.Scalar();
}

Result<std::string> YamlReader::ReadNonEmptyString(const YAML::Node& node,
                                                   const std::string& path) const {
  LG_ASSIGN_OR_RETURN(std::string value, ReadString(node, path));
  if (value.empty()) return Error(node, path, "must not be empty");
  return value;
}

Result<std::vector<std::string>> YamlReader::ReadStringList(const YAML::Node& node,
                                                            const std::string& path) const {
  std::vector<std::string> out;
  LG_RETURN_IF_ERROR(ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
        LG_ASSIGN_OR_RETURN(std::string value, ReadNonEmptyString(item, item_path));
        out.push_back(std::move(value));
        return Status::Ok();
      }));
  return out;
}

Result<int64_t> YamlReader::ReadInt(const YAML::Node& node, const std::string& path, int64_t min,
                                    int64_t max) const {
  if (!node.IsScalar()) {
    return Error(node, path, "expected an integer, got " + std::string(KindOf(node)));
  }
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") {
    return Error(node, path,
                 "expected an integer, got the string " + Quoted(text) + "; remove the quotes");
  }
  std::optional<int64_t> value = ParseDecimal(text);
  if (!value) return Error(node, path, "expected an integer, got " + Quoted(text));
  if (*value < min || *value > max) {
    return Error(
        node, path,
        text + " is out of range; use " + std::to_string(min) + ".." + std::to_string(max));
  }
  return *value;
}

Result<bool> YamlReader::ReadBool(const YAML::Node& node, const std::string& path) const {
  if (node.IsScalar() && node.Tag() != "!") {
    const std::string& text = node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  std::string got = node.IsScalar() ? Quoted(node.Scalar()) : std::string(KindOf(node));
  return Error(node, path, "expected true or false, got " + got);
}

Result<int64_t> YamlReader::ReadDuration(const YAML::Node& node, const std::string& path,
                                         int64_t min, int64_t max, std::string_view range) const {
  if (!node.IsScalar()) {
    return Error(node, path,
                 "expected a duration such as 3600, \"60m\", \"1h\" or \"1d\", got " +
                     std::string(KindOf(node)));
  }
  const std::string& text = node.Scalar();
  auto seconds = ParseDurationSeconds(text);
  if (!seconds.ok()) {
    return Error(node, path,
                 Quoted(text) +
                     " is not a duration; use seconds (3600) or a number "
                     "with s, m, h or d (\"60m\", \"1h\", \"1d\")");
  }
  if (*seconds < min || *seconds > max) {
    return Error(node, path, Quoted(text) + " is out of range; use " + std::string(range));
  }
  return *seconds;
}

YamlReader::Handler YamlReader::SetString(std::string& target, bool non_empty) const {
  return Set(target, non_empty ? &YamlReader::ReadNonEmptyString : &YamlReader::ReadString);
}

YamlReader::Handler YamlReader::SetInt(int64_t& target, int64_t min, int64_t max) const {
  return [this, &target, min, max](const YAML::Node& v, const std::string& p) -> Status {
    LG_ASSIGN_OR_RETURN(target, ReadInt(v, p, min, max));
    return Status::Ok();
  };
}

YamlReader::Handler YamlReader::SetBool(bool& target) const {
  return Set(target, &YamlReader::ReadBool);
}

std::string YamlReader::ResolvePath(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative() && !base_dir_.empty()) p = std::filesystem::path(base_dir_) / p;
  return p.lexically_normal().string();
}

std::string YamlReader::NameSuffix(const YAML::Node& node, const char* key) {
  if (!node.IsMap()) return "";
  const YAML::Node name = node[key];
  if (!name || !name.IsScalar()) return "";
  return " (" + Quoted(name.Scalar()) + ")";
}

int YamlReader::Line(const YAML::Node& node) { return node.Mark().line + 1; }

YAML::Mark YamlReader::MarkOfEmptyItem(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.pos <= 0 || static_cast<size_t>(mark.pos) > text_.size()) {
    return mark;
  }
  size_t i = static_cast<size_t>(mark.pos);
  while (i > 0 && (text_[i - 1] == ' ' || text_[i - 1] == '\t' || text_[i - 1] == '\n' ||
                   text_[i - 1] == '\r')) {
    --i;
  }
  if (i == 0 || text_[i - 1] != '-') return mark;
  size_t dash = i - 1;
  size_t line_start = text_.rfind('\n', dash);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  YAML::Mark result;
  result.pos = static_cast<int>(dash);
  result.line = static_cast<int>(
      std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(dash), '\n'));
  result.column = static_cast<int>(dash - line_start);
  return result;
}

}  // namespace lakegate::config
