#include "client/credentials.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/files.h"

namespace lakegate::client {

using nlohmann::json;

Result<std::string> NormalizeEndpoint(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  std::string endpoint(url);
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return InvalidArgumentError("endpoint must start with http:// or https://: " + endpoint);
  }
  return endpoint;
}

Result<SecretsFile> ReadSecretsFile(const std::string& path) {
  LG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::fill(text.begin(), text.end(), '\0');  // it holds the secret
  if (!doc.is_object() || !doc.contains("client_secret") || !doc["client_secret"].is_string()) {
    return InvalidArgumentError("secrets file " + path +
                                " must be a JSON object with a string \"client_secret\"");
  }
  SecretsFile file;
  file.client_secret = SecretString(doc["client_secret"].get<std::string>());
  if (doc.contains("client_id") && doc["client_id"].is_string()) {
    file.client_id = doc["client_id"].get<std::string>();
  }
  return file;
}

}  // namespace lakegate::client
