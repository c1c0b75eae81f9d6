#include "client/client_auth.h"

#include <algorithm>

#include "common/base64url.h"

namespace lakegate::client {

Status ClientSecretBasic::Authenticate(TokenRequest& request) const {
  std::string secret = UrlEncode(secret_.Reveal());
  std::string userpass = UrlEncode(request.client_id) + ":" + secret;
  request.headers.push_back({"Authorization", "Basic " + Base64Encode(userpass)});
  std::fill(secret.begin(), secret.end(), '\0');
  std::fill(userpass.begin(), userpass.end(), '\0');
  return Status::Ok();
}

}  // namespace lakegate::client
