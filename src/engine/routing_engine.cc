#include "engine/routing_engine.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "common/strings.h"

namespace lakegate::engine {
namespace {

bool IdentStart(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool IdentChar(unsigned char c) { return IdentStart(c) || std::isdigit(c) != 0 || c == '$'; }

// The end of text quoted by `close` from `i` (the opening quote), where a
// doubled `close` stands for itself.
size_t SkipQuoted(std::string_view s, size_t i, char close, std::string* text) {
  for (++i; i < s.size(); ++i) {
    if (s[i] != close) {
      if (text != nullptr) *text += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == close) {
      if (text != nullptr) *text += close;
      ++i;
      continue;
    }
    return i + 1;
  }
  return s.size();
}

class RoutingEngine final : public Engine {
 public:
  // engines[0] is the fallback; `routes` maps a lower-case database name to
  // an index into `engines`.
  RoutingEngine(std::vector<std::unique_ptr<Engine>> engines, std::map<std::string, size_t> routes)
      : engines_(std::move(engines)), routes_(std::move(routes)) {}

  Result<QueryResult> Execute(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const QueryRequest& request, ResultSink& sink) override {
    std::optional<size_t> named;
    std::string named_database;
    std::vector<std::string> unrouted;
    for (std::string& name : QualifierNames(request.sql)) {
      auto it = routes_.find(name);
      if (it == routes_.end()) {
        unrouted.push_back(std::move(name));
        continue;
      }
      if (!named) {
        named = it->second;
        named_database = name;
      } else if (*named != it->second) {
        return TwoEngines(named_database, name);
      }
    }
    const size_t home = EngineOf(request.database);
    // An unrouted qualifier is a database of the fallback engine or an alias;
    // the fallback's catalog tells, when it matters.
    if (!unrouted.empty() && named.value_or(home) != 0) {
      if (std::optional<std::string> other = FallbackDatabase(policy, role, unrouted)) {
        if (named) return TwoEngines(named_database, *other);
        named = 0;
      }
    }
    const size_t target = named.value_or(home);
    if (target == home || request.database.empty()) {
      return engines_[target]->Execute(policy, role, request, sink);
    }
    // The request's database is another engine's: no default database here.
    QueryRequest forwarded = request;
    forwarded.database.clear();
    return engines_[target]->Execute(policy, role, forwarded, sink);
  }

  Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                            const policy::Role& role) override {
    std::vector<DatabaseInfo> out;
    for (size_t i = 0; i < engines_.size(); ++i) {
      LG_ASSIGN_OR_RETURN(std::vector<DatabaseInfo> listed, engines_[i]->Catalog(policy, role));
      for (DatabaseInfo& db : listed) {
        if (EngineOf(db.name) == i) out.push_back(std::move(db));
      }
    }
    std::sort(out.begin(), out.end(),
              [](const DatabaseInfo& a, const DatabaseInfo& b) { return a.name < b.name; });
    return out;
  }

  Result<LoadSummary> Load(const LoadRequest& request, RowSource& source,
                           const LoadProgressFn& progress) override {
    return engines_[EngineOf(request.database)]->Load(request, source, progress);
  }

 private:
  size_t EngineOf(std::string_view database) const {
    auto it = routes_.find(AsciiLower(database));
    return it == routes_.end() ? 0 : it->second;
  }

  // The first of `names` that is a database of the fallback engine `role`
  // may see.
  std::optional<std::string> FallbackDatabase(const policy::PolicySnapshot& policy,
                                              const policy::Role& role,
                                              const std::vector<std::string>& names) {
    Result<std::vector<DatabaseInfo>> listed = engines_[0]->Catalog(policy, role);
    if (!listed.ok()) return std::nullopt;  // the statement fails on its engine instead
    for (const std::string& name : names) {
      for (const DatabaseInfo& db : *listed) {
        if (EqualsIgnoreCase(db.name, name) && EngineOf(db.name) == 0) return db.name;
      }
    }
    return std::nullopt;
  }

  static Status TwoEngines(const std::string& a, const std::string& b) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                  "the statement names databases " + a + " and " + b +
                      ", which are served by different engines; a statement runs on one engine "
                      "(no joins across engines): query each separately");
  }

  const std::vector<std::unique_ptr<Engine>> engines_;
  const std::map<std::string, size_t> routes_;
};

}  // namespace

std::vector<std::string> QualifierNames(std::string_view s) {
  std::vector<std::string> out;
  // The last token: a name (with its text) or something else; a '.' before it.
  bool last_is_name = false, dot_before_last = false, last_is_dot = false;
  std::string last;
  auto token = [&](bool is_name, std::string text = {}) {
    dot_before_last = last_is_dot;
    last_is_dot = false;
    last_is_name = is_name;
    last = std::move(text);
  };
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '\'') {
      i = SkipQuoted(s, i, '\'', nullptr);
      token(false);
    } else if (c == '"' || c == '`') {
      std::string text;
      i = SkipQuoted(s, i, static_cast<char>(c), &text);
      token(true, AsciiLower(text));
    } else if (c == '$' && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1])) == 0) {
      // $tag$ ... $tag$ (PostgreSQL); a lone '$' is other text.
      size_t j = i + 1;
      while (j < s.size() && s[j] != '$' && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t close = s.find(tag, j + 1);
        i = close == std::string_view::npos ? s.size() : close + tag.size();
      } else {
        ++i;
      }
      token(false);
    } else if (std::isdigit(c) != 0) {
      // A number, 1.5 and 1e5 included.
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) {
        ++i;
      }
      token(false);
    } else if (IdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      // E'..', X'..' and the like are strings.
      if (j < s.size() && s[j] == '\'' && j - i == 1) {
        i = SkipQuoted(s, j, '\'', nullptr);
        token(false);
        continue;
      }
      token(true, AsciiLower(s.substr(i, j - i)));
      i = j;
    } else if (c == '.') {
      if (last_is_name && !dot_before_last) out.push_back(last);
      last_is_name = false;
      last_is_dot = true;
      ++i;
    } else {
      token(false);
      ++i;
    }
  }
  return out;
}

Result<std::unique_ptr<Engine>> RouteByDatabase(std::unique_ptr<Engine> fallback,
                                                std::vector<EngineRoute> routes) {
  std::vector<std::unique_ptr<Engine>> engines;
  engines.push_back(std::move(fallback));
  std::map<std::string, size_t> by_name;
  for (EngineRoute& route : routes) {
    engines.push_back(std::move(route.engine));
    for (const std::string& database : route.databases) {
      if (!by_name.emplace(AsciiLower(database), engines.size() - 1).second) {
        return Status(StatusCode::kInvalidArgument, EngineFailure::kMisconfigured,
                      "database " + database + " is routed to two engines");
      }
    }
  }
  return std::unique_ptr<Engine>(
      std::make_unique<RoutingEngine>(std::move(engines), std::move(by_name)));
}

}  // namespace lakegate::engine
