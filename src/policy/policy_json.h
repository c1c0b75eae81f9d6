// The policy catalog as JSON: how a PolicySnapshot is stored in the state
// store (one JSON document per policy version), shown by the admin API and
// exchanged by the CLI.
//
// Document shape (every member optional except where noted; unknown members
// are errors, so a typo never silently drops a restriction):
//   {"format": 1,
//    "roles": [{"name": "r",                                   (required)
//               "description": "...",
//               "grants": [{"database": "analytics",           (required)
//                           "table": "members",                ("" or absent = the database)
//                           "permissions": ["SELECT"],          (required, non-empty)
//                           "columns": {"include": [..]} | {"exclude": [..]},
//                           "grant_option": ["SELECT"]}],       (a subset of permissions)
//               "filters": ["eu-members"],
//               "masks": [{"database", "table", "column", "mask": "show_last_n",
//                          "n": 3, "expression": "..."}],
//               "tag_grants": [{"expression": {"domain": ["sales"]},
//                               "permissions": ["SELECT"]}]}],
//    "filters": [{"name", "database", "table", "rows": "region = 'eu'",
//                 "columns": {...}}],
//    "tag_keys": [{"key": "domain", "values": ["sales", "hr"]}],
//    "tag_assignments": [{"database", "table", "column", "key", "value"}]}
// Row filters travel as their text and are parsed with ParseRowFilter.
// The snapshot's `version` is not part of the document: the store numbers
// versions.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"
#include "policy/validate.h"

namespace lakegate::policy {

// The document format this binary writes and reads.
inline constexpr int kPolicyJsonFormat = 1;

// Canonical JSON (sorted members; roles, filters and tag keys by name, tag
// assignments by resource and key; two-space indent): equal snapshots give byte-equal text, so
// comparing the text tells whether a policy changed.
std::string PolicyToJson(const PolicySnapshot& policy);

// Parses and validates (ValidatePolicy) a document. InvalidArgument with the
// JSON path and what is wrong, e.g.
//   roles[0].grants[1]: unknown member "tabel"
// The returned snapshot has version 0; the caller sets it. The document is a
// stored version: its filters and mask expressions may nest as deep as
// versions were once written with (ParseStoredRowFilter,
// ParseStoredMaskExpression), so that no such version becomes unreadable.
Result<PolicySnapshot> PolicyFromJson(std::string_view json);

// A grant or revoke request of the admin API (Lake Formation's
// GrantPermissions / RevokePermissions for one principal and resource):
//   {"role": "r", "database": "analytics", "table": "members",
//    "permissions": ["SELECT"], "columns": {"include": [..]},
//    "grant_option": ["SELECT"]}                  (grant only)
//    "grant_option_only": true                    (revoke only)
// InvalidArgument naming the member that is wrong; ValidateGrant() holds.
struct GrantRequest {
  std::string role;
  Grant grant;
  bool grant_option_only = false;
};
Result<GrantRequest> GrantRequestFromJson(std::string_view json, bool revoke);

// "null" | "redact" | "hash" | "show_last_n" | "year_only" | "expression".
std::string_view MaskKindName(MaskKind kind);
std::optional<MaskKind> ParseMaskKind(std::string_view name);
// Permission names in a fixed order ("ALL" when every permission is set).
std::vector<std::string> PermissionList(PermissionSet set);

// Human-readable differences between two policies, one entry per changed
// object, e.g. "role lf-dev-role grants", "filter eu-members added",
// "tag key domain removed", "tag assignments". Empty when they are equal.
std::vector<std::string> DescribePolicyChanges(const PolicySnapshot& before,
                                               const PolicySnapshot& after);

}  // namespace lakegate::policy
