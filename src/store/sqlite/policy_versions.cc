// The versioned policy catalog: one opaque JSON document per version.
#include <ctime>
#include <utility>

#include "store/sqlite/ops.h"

namespace lakegate::store::sqlite {

Result<uint64_t> Ops::SavePolicy(std::string_view json, std::string_view author) {
  if (json.empty()) return InvalidArgumentError("the policy document is empty");
  int64_t version = 0;
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("SELECT coalesce(max(version), 0) FROM policy_versions"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InternalError("state store " + conn_->path() + ": no max(version)");
    version = stmt.ColumnInt(0) + 1;
  }
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("INSERT INTO policy_versions (version, json, "
                                                  "created_at, author) VALUES (?, ?, ?, ?)"));
    LG_RETURN_IF_ERROR(stmt.Int(version)
                           .Text(json)
                           .Int(static_cast<int64_t>(std::time(nullptr)))
                           .Text(author)
                           .Run());
  }
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("DELETE FROM policy_versions WHERE version <= ?"));
    LG_RETURN_IF_ERROR(stmt.Int(version - kPolicyVersionsKept).Run());
  }
  return static_cast<uint64_t>(version);
}

Result<std::optional<std::pair<uint64_t, std::string>>> Ops::LatestPolicy() {
  using Latest = std::optional<std::pair<uint64_t, std::string>>;
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("SELECT version, json FROM policy_versions "
                                                "ORDER BY version DESC LIMIT 1"));
  LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Latest();
  return Latest(std::make_pair(static_cast<uint64_t>(stmt.ColumnInt(0)), stmt.ColumnText(1)));
}

}  // namespace lakegate::store::sqlite
