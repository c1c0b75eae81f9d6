#include "app/access_keys.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/files.h"
#include "common/log.h"
#include "common/strings.h"

namespace lakegate::app {

Result<NewAccessKey> CreateAccessKey(store::Store& store, const oauth::AccessKeySealer& sealer,
                                     const std::string& client_id, int64_t now,
                                     std::string access_key_id,
                                     std::optional<SecretString> secret) {
  if (access_key_id.empty()) {
    access_key_id = oauth::GenerateAccessKeyId();
  } else if (!oauth::IsValidAccessKeyId(access_key_id)) {
    return InvalidArgumentError("access key id '" + access_key_id +
                                "' is not valid: use 16 to 128 characters of A-Z and 0-9 "
                                "(or leave it out to get a generated one)");
  }
  NewAccessKey created;
  created.secret = secret ? std::move(*secret) : oauth::GenerateSecretAccessKey();
  created.record = store::AccessKeyRecord{
      .access_key_id = access_key_id,
      .client_id = client_id,
      .secret_ciphertext = sealer.Seal(access_key_id, client_id, created.secret),
      .created_at = now};
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    LG_ASSIGN_OR_RETURN(std::vector<store::AccessKeyRecord> keys, tx.ListAccessKeys());
    const auto held = std::count_if(keys.begin(), keys.end(),
                                    [&](const auto& k) { return k.client_id == client_id; });
    if (static_cast<size_t>(held) >= oauth::kMaxAccessKeysPerClient) {
      return FailedPreconditionError(
          "the client already has " + std::to_string(held) +
          " access keys, the most it may have; delete one first (`lakegate client access-key "
          "list` shows them, `lakegate client access-key delete CLIENT ID` removes one)");
    }
    return tx.InsertAccessKey(created.record);
  }));
  return created;
}

std::string AwsSecretFile(const std::string& secrets_dir, const std::string& client_name) {
  return secrets_dir + "/" + client_name + "-aws.json";
}

Result<std::string> WriteAwsSecretFile(const std::string& secrets_dir,
                                       const std::string& client_name,
                                       const std::string& access_key_id,
                                       const SecretString& secret) {
  LG_RETURN_IF_ERROR(MakeDirectories(secrets_dir, 0700));
  const std::string path = AwsSecretFile(secrets_dir, client_name);
  std::string body = "{\"aws_access_key_id\": " + JsonQuote(access_key_id) +
                     ", \"aws_secret_access_key\": " + JsonQuote(secret.Reveal()) + "}\n";
  Status written = WriteFileAtomic(path, body, 0600);
  std::fill(body.begin(), body.end(), '\0');
  LG_RETURN_IF_ERROR(written);
  return path;
}

namespace {

// The id and secret of an -aws.json file; nullopt when it is absent or not one.
std::optional<std::pair<std::string, SecretString>> ReadAwsSecretFile(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  std::fill(text->begin(), text->end(), '\0');
  if (!doc.is_object()) return std::nullopt;
  auto id = doc.find("aws_access_key_id");
  auto secret = doc.find("aws_secret_access_key");
  if (id == doc.end() || secret == doc.end() || !id->is_string() || !secret->is_string()) {
    return std::nullopt;
  }
  return std::make_pair(id->get<std::string>(), SecretString(secret->get<std::string>()));
}

}  // namespace

Status EnsureDemoAccessKeys(const config::StackConfig& stack, store::Store& store,
                            const oauth::AccessKeySealer& sealer, const std::string& secrets_dir,
                            int64_t now) {
  LG_ASSIGN_OR_RETURN(std::vector<store::AccessKeyRecord> keys, store.ListAccessKeys());
  for (const config::ClientSpec& spec : stack.clients) {
    LG_ASSIGN_OR_RETURN(std::optional<store::ClientRecord> client,
                        store.FindClientByName(spec.name));
    if (!client) continue;
    const std::string path = AwsSecretFile(secrets_dir, spec.name);
    auto file = ReadAwsSecretFile(path);
    if (file) {
      const bool registered = std::any_of(keys.begin(), keys.end(), [&](const auto& k) {
        return k.access_key_id == file->first && k.client_id == client->client_id;
      });
      if (registered) continue;
      // A fresh state store under an existing demo directory: keep the key
      // the directory's users already have.
      Result<NewAccessKey> again = CreateAccessKey(store, sealer, client->client_id, now,
                                                   file->first, std::move(file->second));
      if (again.ok()) continue;
      log::Warn("demo: cannot register " + path + " again (" + again.status().message() +
                "); writing a new access key");
    }
    Result<NewAccessKey> created = CreateAccessKey(store, sealer, client->client_id, now);
    if (!created.ok()) {
      if (created.status().code() != StatusCode::kFailedPrecondition) return created.status();
      log::Warn("demo: " + spec.name + " has no " + path + " and " + created.status().message());
      continue;
    }
    LG_RETURN_IF_ERROR(
        WriteAwsSecretFile(secrets_dir, spec.name, created->record.access_key_id, created->secret)
            .status());
  }
  return Status::Ok();
}

}  // namespace lakegate::app
