// Signing keys and revoked token ids: the token side of the state store.
#include <utility>

#include "store/sqlite/ops.h"

namespace lakegate::store::sqlite {

Result<std::vector<SigningKeyRecord>> Ops::ListSigningKeys() {
  LG_ASSIGN_OR_RETURN(
      Stmt stmt,
      conn_->Prepare("SELECT kid, algorithm, private_pem, created_at, retired_at, publish_until "
                     "FROM signing_keys ORDER BY created_at DESC, rowid DESC"));
  std::vector<SigningKeyRecord> keys;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    SigningKeyRecord key;
    key.kid = stmt.ColumnText(0);
    key.algorithm = stmt.ColumnText(1);
    key.private_pem = SecretString(stmt.ColumnText(2));
    key.created_at = stmt.ColumnInt(3);
    key.retired_at = stmt.ColumnInt(4);
    key.publish_until = stmt.ColumnInt(5);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status Ops::InsertSigningKey(const SigningKeyRecord& key) {
  if (key.kid.empty()) return InvalidArgumentError("signing key id (kid) is empty");
  LG_ASSIGN_OR_RETURN(bool taken,
                      Exists(*conn_, "SELECT 1 FROM signing_keys WHERE kid = ?", key.kid));
  if (taken) return AlreadyExistsError("signing key " + Quoted(key.kid) + " already exists");
  LG_ASSIGN_OR_RETURN(
      Stmt stmt,
      conn_->Prepare("INSERT INTO signing_keys (kid, algorithm, private_pem, created_at, "
                     "retired_at, publish_until) VALUES (?, ?, ?, ?, ?, ?)"));
  return stmt.Text(key.kid)
      .Text(key.algorithm)
      .Text(key.private_pem.Reveal())
      .Int(key.created_at)
      .Int(key.retired_at)
      .Int(key.publish_until)
      .Run();
}

Status Ops::UpdateSigningKey(const SigningKeyRecord& key) {
  LG_ASSIGN_OR_RETURN(
      Stmt stmt,
      conn_->Prepare("UPDATE signing_keys SET algorithm = ?, private_pem = ?, created_at = ?, "
                     "retired_at = ?, publish_until = ? WHERE kid = ?"));
  LG_RETURN_IF_ERROR(stmt.Text(key.algorithm)
                         .Text(key.private_pem.Reveal())
                         .Int(key.created_at)
                         .Int(key.retired_at)
                         .Int(key.publish_until)
                         .Text(key.kid)
                         .Run());
  if (sqlite3_changes(conn_->db()) == 0) {
    return NotFoundError("no signing key " + Quoted(key.kid));
  }
  return Status::Ok();
}

Status Ops::DeleteSigningKey(std::string_view kid) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM signing_keys WHERE kid = ?"));
  LG_RETURN_IF_ERROR(stmt.Text(kid).Run());
  if (sqlite3_changes(conn_->db()) == 0) return NotFoundError("no signing key " + Quoted(kid));
  return Status::Ok();
}

Status Ops::AddRevocation(std::string_view jti, int64_t expires_at) {
  if (jti.empty()) return InvalidArgumentError("token id (jti) to revoke is empty");
  LG_ASSIGN_OR_RETURN(Stmt stmt,
                      conn_->Prepare("INSERT INTO revocations (jti, expires_at) VALUES (?, ?) "
                                     "ON CONFLICT (jti) DO UPDATE SET "
                                     "expires_at = max(expires_at, excluded.expires_at)"));
  return stmt.Text(jti).Int(expires_at).Run();
}

Result<std::vector<std::pair<std::string, int64_t>>> Ops::ListRevocations(int64_t now) {
  LG_ASSIGN_OR_RETURN(
      Stmt stmt,
      conn_->Prepare("SELECT jti, expires_at FROM revocations WHERE expires_at > ? ORDER BY jti"));
  stmt.Int(now);
  std::vector<std::pair<std::string, int64_t>> out;
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.emplace_back(stmt.ColumnText(0), stmt.ColumnInt(1));
  }
  return out;
}

Status Ops::PurgeExpiredRevocations(int64_t now) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM revocations WHERE expires_at <= ?"));
  return stmt.Int(now).Run();
}

}  // namespace lakegate::store::sqlite
