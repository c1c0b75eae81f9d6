// Clients' AWS Signature Version 4 access keys.
#include <utility>

#include "store/record_checks.h"
#include "store/sqlite/ops.h"

namespace lakegate::store::sqlite {

Result<std::vector<AccessKeyRecord>> Ops::ListAccessKeys() {
  LG_ASSIGN_OR_RETURN(Stmt stmt,
                      conn_->Prepare("SELECT access_key_id, client_id, secret_ciphertext, "
                                     "created_at FROM access_keys ORDER BY access_key_id"));
  std::vector<AccessKeyRecord> keys;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    AccessKeyRecord key;
    key.access_key_id = stmt.ColumnText(0);
    key.client_id = stmt.ColumnText(1);
    key.secret_ciphertext = stmt.ColumnText(2);
    key.created_at = stmt.ColumnInt(3);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status Ops::InsertAccessKey(const AccessKeyRecord& key) {
  LG_RETURN_IF_ERROR(CheckAccessKeyRecord(key));
  LG_ASSIGN_OR_RETURN(bool client,
                      Exists(*conn_, "SELECT 1 FROM clients WHERE client_id = ?", key.client_id));
  if (!client) return NotFoundError("no client with id " + Quoted(key.client_id));
  LG_ASSIGN_OR_RETURN(
      bool taken,
      Exists(*conn_, "SELECT 1 FROM access_keys WHERE access_key_id = ?", key.access_key_id));
  if (taken)
    return AlreadyExistsError("access key " + Quoted(key.access_key_id) + " already exists");
  LG_ASSIGN_OR_RETURN(Stmt stmt,
                      conn_->Prepare("INSERT INTO access_keys (access_key_id, client_id, "
                                     "secret_ciphertext, created_at) VALUES (?, ?, ?, ?)"));
  return stmt.Text(key.access_key_id)
      .Text(key.client_id)
      .Text(key.secret_ciphertext)
      .Int(key.created_at)
      .Run();
}

Status Ops::DeleteAccessKey(std::string_view access_key_id) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM access_keys WHERE access_key_id = ?"));
  LG_RETURN_IF_ERROR(stmt.Text(access_key_id).Run());
  if (sqlite3_changes(conn_->db()) == 0) {
    return NotFoundError("no access key " + Quoted(access_key_id));
  }
  return Status::Ok();
}

}  // namespace lakegate::store::sqlite
