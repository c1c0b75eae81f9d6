// Clients' AWS Signature Version 4 access keys.
#include <utility>

#include "store/postgres/ops.h"
#include "store/record_checks.h"

namespace lakegate::store::postgres {

Result<std::vector<AccessKeyRecord>> Ops::ListAccessKeys() {
  LG_ASSIGN_OR_RETURN(PgResult rows,
                      conn_.Exec("cannot list access keys",
                                 "SELECT access_key_id, client_id, secret_ciphertext, created_at "
                                 "FROM lakegate.access_keys ORDER BY access_key_id"));
  std::vector<AccessKeyRecord> keys;
  keys.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    AccessKeyRecord key;
    key.access_key_id = rows.Text(i, 0);
    key.client_id = rows.Text(i, 1);
    key.secret_ciphertext = rows.Text(i, 2);
    key.created_at = rows.Int(i, 3);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status Ops::InsertAccessKey(const AccessKeyRecord& key) {
  LG_RETURN_IF_ERROR(CheckAccessKeyRecord(key));
  LG_ASSIGN_OR_RETURN(bool client,
                      Exists("SELECT 1 FROM lakegate.clients WHERE client_id = $1", key.client_id));
  if (!client) return NotFoundError("no client with id " + Quoted(key.client_id));
  LG_ASSIGN_OR_RETURN(
      bool taken,
      Exists("SELECT 1 FROM lakegate.access_keys WHERE access_key_id = $1", key.access_key_id));
  if (taken)
    return AlreadyExistsError("access key " + Quoted(key.access_key_id) + " already exists");
  return conn_
      .Exec("cannot insert the access key",
            "INSERT INTO lakegate.access_keys (access_key_id, client_id, secret_ciphertext, "
            "created_at) VALUES ($1, $2, $3, $4)",
            {key.access_key_id, key.client_id, key.secret_ciphertext, key.created_at})
      .status();
}

Status Ops::DeleteAccessKey(std::string_view access_key_id) {
  LG_ASSIGN_OR_RETURN(PgResult r, conn_.Exec("cannot delete the access key",
                                             "DELETE FROM lakegate.access_keys WHERE "
                                             "access_key_id = $1",
                                             {access_key_id}));
  if (r.Affected() == 0) return NotFoundError("no access key " + Quoted(access_key_id));
  return Status::Ok();
}

}  // namespace lakegate::store::postgres
