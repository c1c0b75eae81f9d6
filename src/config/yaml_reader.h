// Strict reading of YAML nodes for the stack file, with positions: every
// problem becomes kInvalidArgument "<file>:<line>:<column>: <key path>:
// <what is wrong>; <how to fix it>". Internal to config/ (yaml-cpp stays in
// this module; no header outside src/config includes this one).
//
// A YamlReader reads one document; it is immutable once built, so its const
// methods may be called from anywhere the document lives.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lakegate::config {

// `"s"`.
std::string Quoted(std::string_view s);
// "prefix.key" ("key" when prefix is empty).
std::string Child(std::string_view prefix, std::string_view key);
// "prefix[i]".
std::string Index(std::string_view prefix, size_t i);
// The candidate closest to `word` when it is close enough to be a plausible
// typo (or `word` abbreviates it), for did-you-mean hints.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);
// "; did you mean \"x\"?" with the closest candidate, or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);
// "duplicate <what> \"name\" (first declared at line N)".
std::string Duplicate(std::string_view what, std::string_view name, int first_line);

class YamlReader {
 public:
  // Reads the value found under a known key; `path` names it in messages.
  using Handler = std::function<Status(const YAML::Node& value, const std::string& path)>;
  struct Field {
    std::string key;
    Handler handle;
    bool required = false;
    bool allow_null = false;  // e.g. "clients:" with nothing under it = an empty list
  };
  // Calls `each(item, index, path)` for one item of a list.
  using ItemHandler = std::function<Status(const YAML::Node&, size_t, const std::string&)>;

  // `file_name` is used in messages only; relative paths resolve against
  // `base_dir` ("" = the current directory); `text` is the document (it must
  // outlive the reader).
  YamlReader(std::string_view file_name, std::string_view base_dir, std::string_view text);

  const std::string& file() const { return file_; }

  // ---- errors ----
  // "<file>:<line>:<column>: " ("<file>: " without a position).
  std::string Location(const YAML::Mark& mark) const;
  Status ErrorAt(const YAML::Mark& mark, std::string_view path, std::string_view message) const;
  Status Error(const YAML::Node& node, std::string_view path, std::string_view message) const;

  // ---- structure ----
  // Walks a mapping: rejects non-mappings, non-string and duplicate keys,
  // unknown keys (with a did-you-mean) and missing required keys, and hands
  // every known key's value to its handler. `label` names the mapping in
  // messages about the mapping itself; `prefix` starts the children's paths.
  Status ParseMap(const YAML::Node& node, const std::string& label, const std::string& prefix,
                  const std::vector<Field>& fields) const;
  // Calls `each` for every item of a list; an empty item ("-" alone) is an
  // error pointing at its "-".
  Status ParseList(const YAML::Node& node, const std::string& path, const ItemHandler& each) const;

  // Names a list declared so far, with the 1-based line of each.
  using NameLines = std::map<std::string, int>;
  // OK when `name`, read from `node`, is new to `seen` (which then holds
  // it); else Duplicate(what, ...) + `fix` at `node`.
  Status CheckUnique(NameLines& seen, const std::string& name, const YAML::Node& node,
                     const std::string& path, std::string_view what,
                     std::string_view fix = "") const;

  // ---- scalars ----
  Result<std::string> ReadString(const YAML::Node& node, const std::string& path) const;
  Result<std::string> ReadNonEmptyString(const YAML::Node& node, const std::string& path) const;
  // A list of non-empty strings.
  Result<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                  const std::string& path) const;
  // A plain (unquoted) decimal integer in [min, max].
  Result<int64_t> ReadInt(const YAML::Node& node, const std::string& path, int64_t min,
                          int64_t max) const;
  Result<bool> ReadBool(const YAML::Node& node, const std::string& path) const;
  // A duration: seconds (3600) or a number with s, m, h or d ("60m", "1h"),
  // within [min, max]; `range` names the range in messages ("5m..1d").
  Result<int64_t> ReadDuration(const YAML::Node& node, const std::string& path, int64_t min,
                               int64_t max, std::string_view range) const;

  // A handler that stores what `read` (one of the readers above) returns.
  template <typename T, typename R>
  Handler Set(T& target,
              Result<R> (YamlReader::*read)(const YAML::Node&, const std::string&) const) const {
    return [this, &target, read](const YAML::Node& v, const std::string& p) -> Status {
      LG_ASSIGN_OR_RETURN(target, (this->*read)(v, p));
      return Status::Ok();
    };
  }
  // Handlers that store a value, for the common cases.
  Handler SetString(std::string& target, bool non_empty = true) const;
  Handler SetInt(int64_t& target, int64_t min, int64_t max) const;
  Handler SetBool(bool& target) const;

  // `path` made absolute against the base directory, normalized.
  std::string ResolvePath(const std::string& path) const;

  // ` ("value")` when the mapping has a scalar `key`, for messages about it.
  static std::string NameSuffix(const YAML::Node& node, const char* key);
  // The 1-based line of the node.
  static int Line(const YAML::Node& node);

 private:
  // yaml-cpp marks an empty list item ("-" alone) at the next token; this is
  // the mark of the "-" itself when it is the previous non-blank character.
  YAML::Mark MarkOfEmptyItem(const YAML::Mark& mark) const;

  std::string file_;
  std::string base_dir_;
  std::string_view text_;
};

}  // namespace lakegate::config
