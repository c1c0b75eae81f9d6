#include "oauth/form.h"

#include "common/percent_encoding.h"
#include "common/strings.h"
#include "oauth/oauth_error.h"

namespace lakegate::oauth {
namespace {

constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";

}  // namespace

std::optional<std::string> FormUrlDecode(std::string_view s) {
  return PercentDecodeStrict(s, /*plus_is_space=*/true);
}

Result<FormFields> ParseForm(std::string_view body, size_t max_fields) {
  FormFields fields;
  for (std::string_view pair : SplitNonEmpty(body, '&')) {
    if (fields.size() >= max_fields) return InvalidArgumentError("too many form fields");
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = FormUrlDecode(raw_name);
    auto value = FormUrlDecode(raw_value);
    if (!name || !value) return InvalidArgumentError("malformed percent-encoding in form body");
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

Result<std::optional<std::string>> FormRequest::Single(std::string_view name) const {
  const std::string* found = nullptr;
  for (const auto& [key, value] : fields) {
    if (key != name) continue;
    if (found) {
      return OAuthFailure(OAuthError::kInvalidRequest,
                          "parameter '" + std::string(name) + "' is repeated");
    }
    found = &value;
  }
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(*found);
}

bool FormRequest::Has(std::string_view name) const {
  for (const auto& field : fields) {
    if (field.first == name) return true;
  }
  return false;
}

Result<FormRequest> ParseFormRequest(const EndpointRequest& request) {
  std::string_view media =
      TrimWhitespace(request.content_type.substr(0, request.content_type.find(';')));
  if (!EqualsIgnoreCase(media, kFormContentType)) {
    return OAuthFailure(OAuthError::kInvalidRequest,
                        "the request body must be application/x-www-form-urlencoded");
  }
  Result<FormFields> fields = ParseForm(request.body);
  if (!fields.ok()) return OAuthFailure(OAuthError::kInvalidRequest, fields.status().message());
  return FormRequest{std::move(*fields), request.authorization, request.remote_address,
                     request.client_certificates};
}

}  // namespace lakegate::oauth
