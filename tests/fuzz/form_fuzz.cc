// Fuzzes the form requests of the token, introspection and revocation
// endpoints: oauth::ParseFormRequest (content type, application/x-www-form-
// urlencoded body), the single-value rule, and how client_secret_basic and
// client_secret_post read the client id from the Authorization header and the
// form (oauth/client_secret_auth.h).
//
// Input: a selector byte (content type), the Authorization header value up to
// the first newline, then the body.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_string.h"
#include "fuzz_target.h"
#include "oauth/client_auth.h"
#include "oauth/client_secret.h"
#include "oauth/client_secret_auth.h"
#include "oauth/form.h"

namespace {

using lakegate::Result;
using lakegate::oauth::FormRequest;

constexpr std::string_view kContentTypes[] = {
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "Application/X-WWW-Form-Urlencoded",
    "application/json",
};

const lakegate::oauth::SecretHasher& Hasher() {
  static const lakegate::oauth::SecretHasher hasher(lakegate::SecretString(std::string(32, 'k')));
  return hasher;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  const std::string_view content_type = kContentTypes[input.TakeByte() % 4];
  const std::string_view authorization = input.TakeLine();
  const std::string_view body = input.rest();

  // The decoder on its own: nullopt or at most as long as its input.
  std::optional<std::string> decoded = lakegate::oauth::FormUrlDecode(body);
  if (decoded) FUZZ_CHECK(decoded->size() <= body.size());

  Result<FormRequest> form = lakegate::oauth::ParseFormRequest({.content_type = content_type,
                                                                .authorization = authorization,
                                                                .body = body,
                                                                .remote_address = "127.0.0.1"});
  if (!form.ok()) return 0;
  FUZZ_CHECK(form->fields.size() <= 64);
  for (std::string_view name :
       {"grant_type", "scope", "client_id", "client_secret", "token", "token_type_hint"}) {
    auto single = form->Single(name);
    if (single.ok() && single->has_value()) FUZZ_CHECK(form->Has(name));
  }

  static const auto basic = lakegate::oauth::MakeClientSecretBasic(Hasher());
  static const auto post = lakegate::oauth::MakeClientSecretPost(Hasher());
  for (const auto* method : {basic.get(), post.get()}) {
    if (!method->Present(*form)) continue;
    auto claim = method->Claim(*form);
    if (claim.ok()) method->VerifyUnknown(*form);
  }
  return 0;
}
