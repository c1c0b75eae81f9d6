// The shared-secret client authentication methods (RFC 6749 §2.3.1):
// client_secret_basic (HTTP Basic, id and secret form-urlencoded inside it) and
// client_secret_post (client_id and client_secret in the form body). A secret
// matches the client's current hash, or its previous one until the rotation
// grace period ends. Thread-safe.
#pragma once

#include <memory>

#include "oauth/client_auth.h"
#include "oauth/client_secret.h"

namespace lakegate::oauth {

// `hasher` must outlive the methods.
std::unique_ptr<ClientAuthMethod> MakeClientSecretBasic(const SecretHasher& hasher);
std::unique_ptr<ClientAuthMethod> MakeClientSecretPost(const SecretHasher& hasher);

}  // namespace lakegate::oauth
