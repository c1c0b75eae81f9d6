// Where a client connects and who it is: the endpoint URL and the secrets
// file `lakegate demo` writes ({"client_id": ..., "client_secret": ...}).
// Pure functions apart from reading the file; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/secret_string.h"
#include "common/status.h"

namespace lakegate::client {

// `url` without trailing '/' (paths such as /oauth2/token are appended to it).
// InvalidArgument unless it starts with http:// or https://.
Result<std::string> NormalizeEndpoint(std::string_view url);

struct SecretsFile {
  std::string client_id;  // "" when the file names none
  SecretString client_secret;
};

// Reads a secrets file. The status of ReadFile when it cannot be read;
// InvalidArgument naming the file when it is not a JSON object with a string
// "client_secret".
Result<SecretsFile> ReadSecretsFile(const std::string& path);

}  // namespace lakegate::client
