#include "jose/claims.h"

#include <charconv>
#include <initializer_list>
#include <utility>

#include "common/strings.h"

namespace lakegate::jose {
namespace {

class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Finish() { out_->push_back('}'); }

  void String(std::string_view name, std::string_view value) {
    Key(name);
    Quoted(value);
  }
  void Integer(std::string_view name, int64_t value) {
    Key(name);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    (void)ec;  // 24 bytes always fit an int64_t
    out_->append(buf, end);
  }
  void StringOrArray(std::string_view name, const std::vector<std::string>& values) {
    Key(name);
    if (values.size() == 1) {
      Quoted(values[0]);
      return;
    }
    out_->push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out_->push_back(',');
      Quoted(values[i]);
    }
    out_->push_back(']');
  }

  // A nested object of string members; empty values are left out.
  void Object(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
    Key(name);
    out_->push_back('{');
    bool first = true;
    for (const auto& [member, value] : members) {
      if (value.empty()) continue;
      if (!first) out_->push_back(',');
      first = false;
      Quoted(member);
      out_->push_back(':');
      Quoted(value);
    }
    out_->push_back('}');
  }

 private:
  void Key(std::string_view name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    Quoted(name);
    out_->push_back(':');
  }
  void Quoted(std::string_view s) {
    out_->push_back('"');
    AppendJsonEscaped(*out_, s);
    out_->push_back('"');
  }

  std::string* out_;
  bool first_ = true;
};

}  // namespace

std::string EncodeAccessTokenClaims(const AccessTokenClaims& c) {
  std::string out;
  out.reserve(256 + c.scope.size());
  ObjectWriter w(&out);
  if (!c.iss.empty()) w.String("iss", c.iss);
  if (!c.sub.empty()) w.String("sub", c.sub);
  if (!c.aud.empty()) w.StringOrArray("aud", c.aud);
  if (!c.client_id.empty()) w.String("client_id", c.client_id);
  if (!c.scope.empty()) w.String("scope", c.scope);
  if (!c.token_use.empty()) w.String("token_use", c.token_use);
  if (c.auth_time) w.Integer("auth_time", *c.auth_time);
  w.Integer("iat", c.iat);
  if (c.nbf) w.Integer("nbf", *c.nbf);
  w.Integer("exp", c.exp);
  if (!c.jti.empty()) w.String("jti", c.jti);
  if (c.version != 0) w.Integer("version", c.version);
  if (!c.cnf.empty()) w.Object("cnf", {{"jkt", c.cnf.jkt}});
  w.Finish();
  return out;
}

}  // namespace lakegate::jose
