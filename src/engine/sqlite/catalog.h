// Internal to engine/sqlite: the lake as one role sees it. Attaches the
// databases a role may see to a connection of ours and reads their tables and
// columns, compiling the role's policy (column masks, row and cell filters)
// into the TableDefs of the governed virtual tables. Also the trusted setup
// statements that only our own code runs. Thread-compatible: each call works
// on one connection, used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "engine/sqlite/governed_table.h"
#include "engine/sqlite/guard.h"
#include "policy/policy.h"

namespace lakegate::engine::sqlite_internal {

struct DatabaseView {
  std::string name;
  std::vector<TableDef> tables;
};

// Runs `sql` on `db` with the authorizer's trusted flag set (our own setup
// statements: ATTACH of in-memory schemas, CREATE VIRTUAL TABLE). kInternal
// on failure.
Status ExecTrusted(sqlite3* db, Guard& guard, const std::string& sql);
// Attaches the file `path` as schema `name`, trusted. kInternal on failure.
Status AttachTrusted(sqlite3* db, Guard& guard, const std::string& path, const std::string& name);

// `databases` in the order a session attaches them: the request's database
// first (SQLite resolves unqualified names in attach order), then the rest.
std::vector<std::string> AttachOrder(const std::vector<std::string>& databases,
                                     const std::string& database);

// The databases a statement can reach when not every database is attached:
// `database` (the request's default, unless empty) and each of `candidates`
// whose name appears in `sql` as a word (an identifier, quoted or not, or a
// string literal such as pragma_table_info's schema argument) or is a text
// parameter. Names compare as SQLite compares schema names, ignoring ASCII
// case. Naming more than needed only attaches more; a database not named is
// not attached, so a statement that builds a schema name at run time fails.
// Sorted, no duplicates.
std::vector<std::string> DatabasesNamed(std::string_view sql, const std::vector<Param>& params,
                                        const std::vector<std::string>& candidates,
                                        const std::string& database);

// FailedPrecondition (kMisconfigured) when `count` databases are more than
// `conn` may attach; `who` says whose databases they are.
Status CheckAttachLimit(sqlite3* conn, size_t count, const std::string& who);

// Attaches every database of `databases` (the lake's files under `lake_dir`)
// that `role` may see to `conn` (an empty connection of ours) and reads their
// tables and columns, keeping only what the role may see, compiled for the
// governed tables. `unrestricted` keeps everything. Errors: kMisconfigured
// when the role sees more databases than SQLite attaches, kInternal when a
// file cannot be attached.
Result<std::vector<DatabaseView>> DescribeLake(sqlite3* conn, Guard& guard,
                                               const std::string& lake_dir,
                                               const std::vector<std::string>& databases,
                                               const policy::PolicySnapshot& policy,
                                               const policy::Role& role, bool unrestricted);

}  // namespace lakegate::engine::sqlite_internal
