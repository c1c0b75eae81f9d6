#include "jose/claims.h"

#include <charconv>

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
  // `json` is written as it is (a value this file built).
  void Raw(std::string_view name, std::string_view json) {
    Key(name);
    out_->append(json);
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
  if (!c.cnf_x5t_s256.empty() || !c.cnf_jkt.empty()) {
    std::string cnf;
    ObjectWriter confirmation(&cnf);
    if (!c.cnf_x5t_s256.empty()) confirmation.String("x5t#S256", c.cnf_x5t_s256);
    if (!c.cnf_jkt.empty()) confirmation.String("jkt", c.cnf_jkt);
    confirmation.Finish();
    w.Raw("cnf", cnf);
  }
  w.Finish();
  return out;
}

}  // namespace lakegate::jose
