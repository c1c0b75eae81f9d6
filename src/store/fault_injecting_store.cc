#include "store/fault_injecting_store.h"

#include "common/thread_annotations.h"

namespace lakegate::store {

// The fault settings: changed by a test while other threads call the store,
// and shared with the views handed to transaction bodies.
struct FaultInjectingStore::State {
  Mutex mu;
  int writes_to_pass GUARDED_BY(mu) = 0;
  int writes_to_fail GUARDED_BY(mu) = 0;
  bool reads_fail GUARDED_BY(mu) = false;
  int64_t writes_forwarded GUARDED_BY(mu) = 0;
};

FaultInjectingStore::FaultInjectingStore(std::unique_ptr<Store> base)
    : owned_(std::move(base)), target_(owned_.get()), state_(std::make_shared<State>()) {}

FaultInjectingStore::FaultInjectingStore(Store* target, std::shared_ptr<State> state)
    : target_(target), state_(std::move(state)) {}

FaultInjectingStore::~FaultInjectingStore() = default;

void FaultInjectingStore::FailWrites(int count, int after) {
  MutexLock lock(state_->mu);
  state_->writes_to_fail = count > 0 ? count : 0;
  state_->writes_to_pass = after > 0 ? after : 0;
}

void FaultInjectingStore::SetReadsFail(bool fail) {
  MutexLock lock(state_->mu);
  state_->reads_fail = fail;
}

int64_t FaultInjectingStore::writes_forwarded() const {
  MutexLock lock(state_->mu);
  return state_->writes_forwarded;
}

Status FaultInjectingStore::BeforeWrite() {
  MutexLock lock(state_->mu);
  if (state_->writes_to_fail > 0) {
    if (state_->writes_to_pass > 0) {
      --state_->writes_to_pass;
    } else {
      --state_->writes_to_fail;
      return UnavailableError("injected fault: state store write failed");
    }
  }
  ++state_->writes_forwarded;
  return Status::Ok();
}

Status FaultInjectingStore::BeforeRead() {
  MutexLock lock(state_->mu);
  if (state_->reads_fail) return UnavailableError("injected fault: state store read failed");
  return Status::Ok();
}

#define LG_FAULT_READ(call)         \
  LG_RETURN_IF_ERROR(BeforeRead()); \
  return target_->call
#define LG_FAULT_WRITE(call)         \
  LG_RETURN_IF_ERROR(BeforeWrite()); \
  return target_->call

Result<std::vector<ClientRecord>> FaultInjectingStore::ListClients() {
  LG_FAULT_READ(ListClients());
}
Result<std::optional<ClientRecord>> FaultInjectingStore::FindClient(std::string_view client_id) {
  LG_FAULT_READ(FindClient(client_id));
}
Result<std::optional<ClientRecord>> FaultInjectingStore::FindClientByName(std::string_view name) {
  LG_FAULT_READ(FindClientByName(name));
}
Status FaultInjectingStore::InsertClient(const ClientRecord& client) {
  LG_FAULT_WRITE(InsertClient(client));
}
Status FaultInjectingStore::UpdateClient(const ClientRecord& client) {
  LG_FAULT_WRITE(UpdateClient(client));
}
Status FaultInjectingStore::DeleteClient(std::string_view client_id) {
  LG_FAULT_WRITE(DeleteClient(client_id));
}
Result<std::vector<AccessKeyRecord>> FaultInjectingStore::ListAccessKeys() {
  LG_FAULT_READ(ListAccessKeys());
}
Status FaultInjectingStore::InsertAccessKey(const AccessKeyRecord& key) {
  LG_FAULT_WRITE(InsertAccessKey(key));
}
Status FaultInjectingStore::DeleteAccessKey(std::string_view access_key_id) {
  LG_FAULT_WRITE(DeleteAccessKey(access_key_id));
}
Result<std::vector<SigningKeyRecord>> FaultInjectingStore::ListSigningKeys() {
  LG_FAULT_READ(ListSigningKeys());
}
Status FaultInjectingStore::InsertSigningKey(const SigningKeyRecord& key) {
  LG_FAULT_WRITE(InsertSigningKey(key));
}
Status FaultInjectingStore::UpdateSigningKey(const SigningKeyRecord& key) {
  LG_FAULT_WRITE(UpdateSigningKey(key));
}
Status FaultInjectingStore::DeleteSigningKey(std::string_view kid) {
  LG_FAULT_WRITE(DeleteSigningKey(kid));
}
Status FaultInjectingStore::AddRevocation(std::string_view jti, int64_t expires_at) {
  LG_FAULT_WRITE(AddRevocation(jti, expires_at));
}
Result<bool> FaultInjectingStore::RememberOnce(std::string_view key, int64_t expires_at,
                                               int64_t now) {
  LG_FAULT_WRITE(RememberOnce(key, expires_at, now));
}
Result<std::vector<std::pair<std::string, int64_t>>> FaultInjectingStore::ListRevocations(
    int64_t now) {
  LG_FAULT_READ(ListRevocations(now));
}
Status FaultInjectingStore::PurgeExpiredRevocations(int64_t now) {
  LG_FAULT_WRITE(PurgeExpiredRevocations(now));
}
Result<std::vector<ResourceServerRecord>> FaultInjectingStore::ListResourceServers() {
  LG_FAULT_READ(ListResourceServers());
}
Status FaultInjectingStore::PutResourceServer(const ResourceServerRecord& server) {
  LG_FAULT_WRITE(PutResourceServer(server));
}
Status FaultInjectingStore::DeleteResourceServer(std::string_view identifier) {
  LG_FAULT_WRITE(DeleteResourceServer(identifier));
}
Result<std::optional<std::string>> FaultInjectingStore::GetSetting(std::string_view key) {
  LG_FAULT_READ(GetSetting(key));
}
Status FaultInjectingStore::PutSetting(std::string_view key, std::string_view value) {
  LG_FAULT_WRITE(PutSetting(key, value));
}
Result<uint64_t> FaultInjectingStore::SavePolicy(std::string_view json, std::string_view author) {
  LG_FAULT_WRITE(SavePolicy(json, author));
}
Result<std::optional<std::pair<uint64_t, std::string>>> FaultInjectingStore::LatestPolicy() {
  LG_FAULT_READ(LatestPolicy());
}
Result<uint64_t> FaultInjectingStore::ChangeCounter() { LG_FAULT_READ(ChangeCounter()); }

#undef LG_FAULT_READ
#undef LG_FAULT_WRITE

Status FaultInjectingStore::RunInTransaction(const std::function<Status(Store&)>& body) {
  return target_->RunInTransaction([&](Store& inner) {
    FaultInjectingStore view(&inner, state_);
    return body(view);
  });
}

}  // namespace lakegate::store
