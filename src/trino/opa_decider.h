// OpaDecider: lakegate as Trino's policy decision point. It answers the
// protocol of Trino's OPA access-control plugin (access-control.name=opa) from
// the policy catalog:
//
//   Allow        opa.policy.uri                       {"result": true|false}
//   Batch        opa.policy.batched-uri               {"result": [allowed indices]}
//   RowFilters   opa.policy.row-filters-uri           {"result": [{"expression": "..."}]}
//   ColumnMasks  opa.policy.batch-column-masking-uri  {"result": [{"index": i,
//                                                      "viewExpression": {"expression": "..."}}]}
//
// Every request is {"input": {"context": {"identity": {"user": ...}, ...},
// "action": {"operation": ..., "resource" | "filterResources": ...}}}. The
// user is resolved to a role and a statement class by the PrincipalResolver
// (a client id through the same client and scope rules as the query API; the
// principal of lakegate's own Trino engine names both). Decisions:
//
//   - the lake catalog (Options::catalog): a Trino schema is a catalog
//     database; visibility, SELECT on columns, INSERT/DELETE/UPDATE (write
//     scope, whole-table access) and DDL (admin scope, CREATE_TABLE / ALTER /
//     DROP) come from policy::DecideView / DecideDatabase, as in every engine;
//     hidden tables and columns are filtered out of every listing;
//   - `system` (the JDBC and metadata tables, a caller's own queries) is
//     readable; every other catalog only for an unrestricted role;
//   - row filters: ONE expression per table, the OR of the role's filters
//     (Trino ANDs several, Lake Formation unions them); cells a role sees only
//     through some filters: per column `CASE WHEN <OR of those filters> THEN
//     <column or mask> END` (NULL elsewhere); masks rendered for Trino
//     (SqlDialect::kTrino), failing the query (fail()) where Trino cannot
//     reproduce a mask's semantics on the column's type; every expression is
//     evaluated on the raw row, as the caller when the role may read every
//     column it references (Trino checks them with the caller's own columns),
//     else as kExpressionPrincipal;
//   - impersonation, session properties, views, functions outside the built-in
//     ones, procedures, schema DDL and unknown operations are denied unless
//     the role is unrestricted (fail closed).
//
// Answers are cached per (policy version, principal generation, request),
// bounded in count and bytes: Trino asks the same questions for every query
// and the plugin caches nothing. Row filters and writes depend on a table's
// columns (a source that covers no column exposes no row; writes need the
// whole table), which Trino does not send with them: they come from the
// ColumnsFn, else from the requests that listed them; when neither knows, a
// filtered role's query fails and a write is denied (fail closed).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/metrics.h"
#include "common/secret_string.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "engine/engine.h"
#include "policy/policy.h"

namespace lakegate::trino {

// Who a Trino user is in lakegate's terms.
struct TrinoPrincipal {
  std::string role;
  engine::StatementClass max_class = engine::StatementClass::kRead;
  // lakegate's own loads (engine::kTrinoLoadPrincipal): every permission, no role.
  bool superuser = {};
};

// Why a decision request failed (the plugin fails the query on any non-2xx).
enum class OpaFailure {
  kMalformed,  // not the plugin's JSON shape (InvalidArgument, 400)
};
const ReasonDomain& ReasonDomainOf(OpaFailure);

// The principal name lakegate's Trino engine uses to run a statement as
// `role` with `max_class`: "lakegate:<class>:<role>" (a ':' never occurs in a
// generated client id). ParseEnginePrincipal() is its inverse.
std::string EnginePrincipal(std::string_view role, engine::StatementClass max_class);
bool ParseEnginePrincipal(std::string_view user, TrinoPrincipal* out);

// The identity Trino evaluates a row filter or mask as (its `identity`) when
// the expression references a column the role itself may not read: it reads
// every column of the lake, so a filter or a cell filter's CASE may test such
// a column (a filter on salary that shows only id), as in every engine. An
// expression over columns the role reads carries no identity: Trino then
// checks them within the caller's own SelectFromColumns, one decision pair
// fewer per query. Read
// class only; a ':' never occurs in a client id, and Trino never lets a
// client claim it (impersonation is denied, tokens name their subject).
inline constexpr std::string_view kExpressionPrincipal = "lakegate:expressions";

class OpaDecider {
 public:
  struct Options {
    std::string catalog = "lake";  // the Trino catalog that holds the lake
    // The key of hash masks (as the engines': hex HMAC-SHA256 of the value).
    SecretString mask_hash_key;
    // When set (a counter whose one label is "answer"), every answer is
    // counted in it with answer="cached" or "computed"
    // (lakegate_trino_decisions_total): a steady Trino workload should be
    // answered almost only from the cache.
    audit::Counter* answers = nullptr;
    // The answers cached (their requests and replies) hold at most this many
    // bytes: Trino's requests grow with a table's columns.
    size_t max_cached_bytes = 64 << 20;
  };
  using PolicyFn = std::function<std::shared_ptr<const policy::PolicySnapshot>()>;
  // The principal of a Trino user (not an engine principal); PermissionDenied
  // when it has none (unknown or disabled client, no rule). `generation`
  // changes whenever an answer may change (clients or rules changed).
  using PrincipalFn = std::function<Result<TrinoPrincipal>(std::string_view user)>;
  using GenerationFn = std::function<uint64_t()>;
  // The columns of a table of the lake catalog, in table order; empty when
  // unknown (e.g. FileMetastoreColumns). May be empty: the columns Trino
  // listed in earlier requests are used then.
  using ColumnsFn =
      std::function<std::vector<std::string>(std::string_view schema, std::string_view table)>;

  OpaDecider(Options options, PolicyFn policy, PrincipalFn principal, GenerationFn generation,
             ColumnsFn columns = {});

  // Each returns the reply body, or kMalformed for a body that is not the
  // plugin's request.
  Result<std::string> Allow(std::string_view body) EXCLUDES(mu_);
  Result<std::string> Batch(std::string_view body) EXCLUDES(mu_);
  Result<std::string> RowFilters(std::string_view body) EXCLUDES(mu_);
  Result<std::string> ColumnMasks(std::string_view body) EXCLUDES(mu_);

  // Answers served from the cache, and computed (tests, benchmarks).
  uint64_t cache_hits() const;
  uint64_t cache_misses() const;

  enum class Kind { kAllow, kBatch, kRowFilters, kColumnMasks };
  struct Request;

 private:
  Result<std::string> Answer(Kind kind, std::string_view body) EXCLUDES(mu_);
  Result<std::string> Decide(Kind kind, const Request& request,
                             const policy::PolicySnapshot& policy) EXCLUDES(mu_);
  void ClearCache() REQUIRES(mu_);
  // The columns Trino listed for a lake table, for when the ColumnsFn does
  // not know them.
  void RememberColumns(std::string_view schema, std::string_view table,
                       std::vector<std::string> columns) EXCLUDES(mu_);
  std::vector<std::string> KnownColumns(std::string_view schema, std::string_view table) const
      EXCLUDES(mu_);

  const Options options_;
  const PolicyFn policy_;
  const PrincipalFn principal_;
  const GenerationFn generation_;
  const ColumnsFn columns_fn_;

  mutable Mutex mu_;
  uint64_t cached_version_ GUARDED_BY(mu_) = 0;
  uint64_t cached_generation_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, std::string> cache_ GUARDED_BY(mu_);
  size_t cached_bytes_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, std::vector<std::string>> columns_ GUARDED_BY(mu_);
  // Answers counted in Options::answers, else in a counter of our own.
  audit::Metrics own_metrics_;
  audit::Counter& answers_;
  audit::Counter::Cell* const cached_;
  audit::Counter::Cell* const computed_;
};

}  // namespace lakegate::trino
