#include "engine/routing_engine.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/strings.h"
#include "engine/sql_lexer.h"

namespace lakegate::engine {
namespace {

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
  const std::vector<sql::Token> tokens = sql::Lex(s, sql::Dialect::kAnyDialect);
  auto is_name = [](const sql::Token& t) {
    return t.kind == sql::Token::Kind::kWord || t.kind == sql::Token::Kind::kQuoted;
  };
  // A name before a '.' that does not itself follow a '.'.
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (tokens[i].kind != sql::Token::Kind::kDot || !is_name(tokens[i - 1])) continue;
    if (i >= 2 && tokens[i - 2].kind == sql::Token::Kind::kDot) continue;
    out.push_back(AsciiLower(tokens[i - 1].name));
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
