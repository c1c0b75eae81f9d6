#include "cli/client_commands.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "common/base64url.h"
#include "common/files.h"
#include "common/secret_string.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace lakegate::cli {
namespace {

using nlohmann::json;

constexpr int64_t kExpirySlackSeconds = 60;  // a cached token is dropped this long before exp
constexpr size_t kMaxResponseBytes = 512u << 20;
constexpr size_t kMaxCellWidth = 40;  // table output: longer values are cut with "..."

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// ---------------------------------------------------------------------------
// HTTP via libcurl.

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  bool result_truncated = false;  // X-Result-Truncated: true (csv/ndjson results)
};

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  constexpr std::string_view kTruncated = "x-result-truncated:";
  if (line.size() > kTruncated.size() &&
      EqualsIgnoreCase(line.substr(0, kTruncated.size()), kTruncated)) {
    response->result_truncated =
        EqualsIgnoreCase(TrimWhitespace(line.substr(kTruncated.size())), "true");
  }
  return size * count;
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t n = size * count;
  if (body->size() + n > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(data, n);
  return n;
}

// POSTs `body`; `headers` may hold credentials and are wiped afterwards.
Result<HttpResponse> HttpPost(const std::string& url, std::vector<std::string>& headers,
                              const std::string& body, long timeout_seconds) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return InternalError("cannot initialize libcurl");
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return InternalError("cannot initialize libcurl");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_seconds);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "lakegate-cli/0.1");
  CURLcode rc = curl_easy_perform(c);
  for (std::string& h : headers) {  // may hold the secret or the token
    std::fill(h.begin(), h.end(), '\0');
  }
  if (rc != CURLE_OK) {
    std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    if (rc == CURLE_WRITE_ERROR) why = "response larger than 512 MiB";
    return UnavailableError("cannot reach " + url + ": " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* type = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) response.content_type = type;
  return response;
}

// ---------------------------------------------------------------------------
// Endpoint, credentials, token cache.

struct ClientFlags {
  std::string endpoint;
  std::string client_id;
  std::string client_secret;
  std::string secrets_file;
  std::string scope;
  bool no_cache = false;
};

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--endpoint,-e", f.endpoint,
                  "Server URL, e.g. http://127.0.0.1:8080 (default $LAKEGATE_ENDPOINT)");
  cmd->add_option("--client-id", f.client_id,
                  "Client id (default $LAKEGATE_CLIENT_ID, else the secrets file's)");
  auto* secret = cmd->add_option(
      "--client-secret", f.client_secret,
      "Client secret (default $LAKEGATE_CLIENT_SECRET; prefer --secrets-file: command lines "
      "are visible to other users)");
  auto* file = cmd->add_option("--secrets-file", f.secrets_file,
                               "JSON file {\"client_id\",\"client_secret\"} as written by "
                               "`lakegate demo` (default $LAKEGATE_SECRETS_FILE)");
  secret->excludes(file);
  cmd->add_option("--scope", f.scope, "Space-separated scopes to request (default: all allowed)");
  cmd->add_flag("--no-cache", f.no_cache, "Neither read nor write the token cache");
}

struct Credentials {
  std::string endpoint;  // without a trailing '/'
  std::string client_id;
  SecretString secret;   // empty when none was given (a cached token may still do)
  std::string scope;
  bool use_cache = true;
};

Result<Credentials> ResolveCredentials(const ClientFlags& f) {
  Credentials c;
  c.endpoint = !f.endpoint.empty() ? f.endpoint : Env("LAKEGATE_ENDPOINT");
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (c.endpoint.empty()) {
    return InvalidArgumentError(
        "no endpoint: pass --endpoint URL or set LAKEGATE_ENDPOINT (the URL `lakegate demo` "
        "prints)");
  }
  if (c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0) {
    return InvalidArgumentError("endpoint must start with http:// or https://: " + c.endpoint);
  }
  c.client_id = !f.client_id.empty() ? f.client_id : Env("LAKEGATE_CLIENT_ID");
  std::string secrets_file = f.secrets_file;
  if (!f.client_secret.empty()) {
    c.secret = SecretString(f.client_secret);
  } else if (secrets_file.empty()) {
    if (std::string env = Env("LAKEGATE_CLIENT_SECRET"); !env.empty()) {
      c.secret = SecretString(std::move(env));
    } else {
      secrets_file = Env("LAKEGATE_SECRETS_FILE");
    }
  }
  if (!secrets_file.empty()) {
    auto text = ReadFile(secrets_file);
    if (!text.ok()) return text.status();
    json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("client_secret") || !doc["client_secret"].is_string()) {
      return InvalidArgumentError("secrets file " + secrets_file +
                                  " must be a JSON object with a string \"client_secret\"");
    }
    c.secret = SecretString(doc["client_secret"].get<std::string>());
    if (c.client_id.empty() && doc.contains("client_id") && doc["client_id"].is_string()) {
      c.client_id = doc["client_id"].get<std::string>();
    }
  }
  if (c.client_id.empty()) {
    return InvalidArgumentError(
        "no client id: pass --client-id or --secrets-file, or set LAKEGATE_CLIENT_ID or "
        "LAKEGATE_SECRETS_FILE");
  }
  c.scope = f.scope;
  c.use_cache = !f.no_cache;
  return c;
}

std::string CacheDir() {
  std::string base = Env("XDG_CACHE_HOME");
  if (base.empty()) {
    std::string home = Env("HOME");
    if (home.empty()) return "";
    base = home + "/.cache";
  }
  return base + "/lakegate";
}

std::string CachePath(const Credentials& c) {
  std::string dir = CacheDir();
  if (dir.empty()) return "";
  std::string key = crypto::Sha256(c.endpoint + "\n" + c.client_id + "\n" + c.scope);
  return dir + "/token-" + HexEncode(key).substr(0, 32) + ".json";
}

// The token's "exp" claim, read without verification (only to time the cache).
std::optional<int64_t> JwtExpiry(const std::string& token) {
  size_t a = token.find('.');
  size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return std::nullopt;
  auto payload = Base64UrlDecode(std::string_view(token).substr(a + 1, b - a - 1));
  if (!payload) return std::nullopt;
  json claims = json::parse(*payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return std::nullopt;
  }
  return claims["exp"].get<int64_t>();
}

// A cached token that is still good for at least kExpirySlackSeconds, if any.
// Files that other users could read or write are ignored.
std::optional<std::string> ReadCachedToken(const Credentials& c) {
  if (!c.use_cache) return std::nullopt;
  std::string path = CachePath(c);
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) return std::nullopt;
  auto text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  json doc = json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string() ||
      !doc.contains("expires_at") || !doc["expires_at"].is_number_integer()) {
    return std::nullopt;
  }
  if (doc["expires_at"].get<int64_t>() - kExpirySlackSeconds <= std::time(nullptr)) {
    return std::nullopt;
  }
  return doc["access_token"].get<std::string>();
}

void DropCachedToken(const Credentials& c) {
  std::string path = CachePath(c);
  if (!path.empty()) ::unlink(path.c_str());
}

void WriteCachedToken(const Credentials& c, const std::string& token, int64_t expires_at) {
  if (!c.use_cache) return;
  std::string path = CachePath(c);
  if (path.empty()) return;
  if (!MakeDirectories(CacheDir(), 0700).ok()) return;  // best effort: caching is optional
  json doc = {{"access_token", token}, {"expires_at", expires_at}, {"endpoint", c.endpoint},
              {"client_id", c.client_id}, {"scope", c.scope}};
  WriteFileAtomic(path, doc.dump() + "\n", 0600).IgnoreError();
}

// Requests a new token (client_secret_basic).
Result<std::string> FetchToken(const Credentials& c) {
  if (c.secret.empty()) {
    return InvalidArgumentError(
        "no client secret: pass --secrets-file or --client-secret, or set "
        "LAKEGATE_SECRETS_FILE or LAKEGATE_CLIENT_SECRET");
  }
  std::string body = "grant_type=client_credentials";
  if (!c.scope.empty()) body += "&scope=" + UrlEncode(c.scope);
  // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
  std::string userpass = UrlEncode(c.client_id) + ":" + UrlEncode(c.secret.Reveal());
  std::vector<std::string> headers = {
      "Authorization: Basic " + Base64Encode(userpass),
      "Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  std::fill(userpass.begin(), userpass.end(), '\0');
  auto response = HttpPost(c.endpoint + "/oauth2/token", headers, body, 30);
  if (!response.ok()) return response.status().WithPrefix("token request failed");
  json doc = json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
      std::string message = doc["error"].get<std::string>();
      if (doc.contains("error_description") && doc["error_description"].is_string()) {
        message += ": " + doc["error_description"].get<std::string>();
      }
      return UnauthenticatedError("token request failed: " + message);
    }
    return UnavailableError("token request failed: HTTP " + std::to_string(response->status) +
                            " from " + c.endpoint + "/oauth2/token");
  }
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string()) {
    return InternalError("token request failed: the response has no access_token");
  }
  std::string token = doc["access_token"].get<std::string>();
  int64_t expires_at = 0;
  if (auto exp = JwtExpiry(token)) {
    expires_at = *exp;
  } else if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) {
    expires_at = std::time(nullptr) + doc["expires_in"].get<int64_t>();
  }
  if (expires_at > 0) WriteCachedToken(c, token, expires_at);
  return token;
}

struct Token {
  std::string value;
  bool from_cache = false;
};

Result<Token> GetToken(const Credentials& c) {
  if (auto cached = ReadCachedToken(c)) return Token{std::move(*cached), true};
  LG_ASSIGN_OR_RETURN(std::string token, FetchToken(c));
  return Token{std::move(token), false};
}

// ---------------------------------------------------------------------------
// Query output.

// The text of one JSON value for table/CSV output; nullopt for null.
std::optional<std::string> CellText(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return std::nullopt;
    case json::value_t::string:
      return v.get<std::string>();
    default:
      return v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

// Width in terminal columns (code points; good enough for most scripts).
size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Makes a value printable on one line and cuts it to kMaxCellWidth columns.
std::string FitCell(std::string_view s) {
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (width == kMaxCellWidth - 3 && DisplayWidth(s.substr(i)) > 3) return out + "...";
      ++width;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t' || c == '\r' || c < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

const json& RowValue(const json& row, const std::string& column, size_t index) {
  static const json kNull;
  if (row.is_object()) {
    auto it = row.find(column);
    return it != row.end() ? *it : kNull;
  }
  if (row.is_array() && index < row.size()) return row[index];
  return kNull;
}

std::vector<std::string> ColumnNames(const json& doc) {
  std::vector<std::string> names;
  if (doc.contains("columns") && doc["columns"].is_array()) {
    for (const json& col : doc["columns"]) {
      if (col.is_object() && col.contains("name") && col["name"].is_string()) {
        names.push_back(col["name"].get<std::string>());
      } else if (col.is_string()) {
        names.push_back(col.get<std::string>());
      }
    }
  } else if (doc.contains("data") && doc["data"].is_array() && !doc["data"].empty() &&
             doc["data"][0].is_object()) {
    for (auto& [key, value] : doc["data"][0].items()) names.push_back(key);
  }
  return names;
}

const json& Rows(const json& doc) {
  static const json kEmpty = json::array();
  if (doc.contains("data") && doc["data"].is_array()) return doc["data"];
  return kEmpty;
}

void PrintTable(const json& doc) {
  std::vector<std::string> names = ColumnNames(doc);
  const json& rows = Rows(doc);
  std::vector<std::vector<std::string>> cells;
  std::vector<std::vector<bool>> numeric;
  std::vector<size_t> widths;
  for (const std::string& n : names) widths.push_back(DisplayWidth(FitCell(n)));
  for (const json& row : rows) {
    std::vector<std::string> line;
    std::vector<bool> right;
    for (size_t i = 0; i < names.size(); ++i) {
      const json& v = RowValue(row, names[i], i);
      auto text = CellText(v);
      line.push_back(text ? FitCell(*text) : "NULL");
      right.push_back(v.is_number());
      widths[i] = std::max(widths[i], DisplayWidth(line.back()));
    }
    cells.push_back(std::move(line));
    numeric.push_back(std::move(right));
  }
  auto pad = [](const std::string& s, size_t width, bool right_align) {
    std::string fill(width - std::min(width, DisplayWidth(s)), ' ');
    return right_align ? fill + s : s + fill;
  };
  std::string out;
  if (!names.empty()) {
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i == 0 ? "" : " | ") + pad(FitCell(names[i]), widths[i], false);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i == 0 ? "" : "-+-") + std::string(widths[i], '-');
    }
    out += "\n";
    for (size_t r = 0; r < cells.size(); ++r) {
      std::string line;
      for (size_t i = 0; i < names.size(); ++i) {
        line += (i == 0 ? "" : " | ") + pad(cells[r][i], widths[i], numeric[r][i]);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  int64_t count = doc.contains("rowCount") && doc["rowCount"].is_number_integer()
                      ? doc["rowCount"].get<int64_t>()
                      : static_cast<int64_t>(rows.size());
  out += "(" + std::to_string(count) + (count == 1 ? " row)" : " rows)") + "\n";
  if (doc.contains("truncated") && doc["truncated"].is_boolean() && doc["truncated"].get<bool>()) {
    out += "(truncated: the result has more rows; raise --max-rows to see them)\n";
  }
  std::cout << out;
}

void AppendCsvField(std::string& out, const std::optional<std::string>& value) {
  if (!value) return;  // NULL is an empty field
  const std::string& s = *value;
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';  // "" (quoted empty) is an empty string, not NULL
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void PrintCsv(const json& doc) {
  std::vector<std::string> names = ColumnNames(doc);
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(out, names[i]);
  }
  out += "\n";
  for (const json& row : Rows(doc)) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ',';
      AppendCsvField(out, CellText(RowValue(row, names[i], i)));
    }
    out += "\n";
  }
  std::cout << out;
}

// A --param value: a JSON scalar when it parses as one (42, 1.5, true, null,
// "quoted text"), else the text itself.
json ParamValue(const std::string& text) {
  json v = json::parse(text, nullptr, false);
  if (!v.is_discarded() && !v.is_object() && !v.is_array()) return v;
  return text;
}

struct QueryFlags {
  ClientFlags client;
  std::string sql;
  std::string database;
  std::string format = "table";
  int64_t max_rows = 0;  // 0 = the server's default
  std::vector<std::string> params;
  long timeout = 120;
};

Status QueryError(const HttpResponse& response) {
  json doc = json::parse(response.body, nullptr, false);
  std::string code = "HTTP_" + std::to_string(response.status);
  std::string message;
  if (doc.is_object() && doc.contains("error")) {
    const json& e = doc["error"];
    if (e.is_object()) {
      if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
      if (e.contains("message") && e["message"].is_string()) {
        message = e["message"].get<std::string>();
      }
    } else if (e.is_string()) {  // an RFC 6750 style body
      code = e.get<std::string>();
      if (doc.contains("error_description") && doc["error_description"].is_string()) {
        message = doc["error_description"].get<std::string>();
      }
    }
  }
  if (message.empty()) {
    message = response.body.empty() ? "(empty response)" : FitCell(response.body.substr(0, 200));
  }
  std::string text = "query failed (" + std::to_string(response.status) + " " + code + "): " +
                     message;
  if (doc.is_object() && doc.contains("queryId") && doc["queryId"].is_string()) {
    text += " [queryId " + doc["queryId"].get<std::string>() + "]";
  }
  return FailedPreconditionError(text);
}

void RunQuery(const QueryFlags& flags) {
  auto creds = ResolveCredentials(flags.client);
  if (!creds.ok()) Exit(Fail(creds.status()));
  json request = {{"query", flags.sql},
                  {"format", flags.format == "csv" ? "csv" : "json"}};
  if (!flags.database.empty()) request["database"] = flags.database;
  if (!flags.params.empty()) {
    json params = json::array();
    for (const std::string& p : flags.params) params.push_back(ParamValue(p));
    request["parameters"] = std::move(params);
  }
  if (flags.max_rows > 0) request["maxRows"] = flags.max_rows;
  std::string body = request.dump(-1, ' ', false, json::error_handler_t::replace);

  auto token = GetToken(*creds);
  if (!token.ok()) Exit(Fail(token.status()));
  Result<HttpResponse> response = InternalError("unreachable");
  for (int attempt = 0;; ++attempt) {
    std::vector<std::string> headers = {"Authorization: Bearer " + token->value,
                                        "Content-Type: application/json",
                                        flags.format == "csv" ? "Accept: text/csv, application/json"
                                                              : "Accept: application/json"};
    response = HttpPost(creds->endpoint + "/v1/query", headers, body, flags.timeout);
    if (!response.ok()) Exit(Fail(response.status()));
    // A cached token the server no longer accepts (revoked, key rotated):
    // drop it and try once more with a fresh one.
    if (response->status == 401 && token->from_cache && attempt == 0) {
      DropCachedToken(*creds);
      auto fresh = FetchToken(*creds);
      if (!fresh.ok()) Exit(Fail(fresh.status()));
      token = Token{std::move(*fresh), false};
      continue;
    }
    break;
  }
  if (response->status < 200 || response->status >= 300) Exit(Fail(QueryError(*response)));

  bool is_json = response->content_type.find("json") != std::string::npos ||
                 (!response->body.empty() && response->body.front() == '{');
  if (flags.format == "json" || (flags.format == "csv" && !is_json)) {
    std::cout << response->body;
    if (!response->body.empty() && response->body.back() != '\n') std::cout << "\n";
    if (flags.format == "csv" && response->result_truncated) {
      std::cerr << "lakegate: warning: the result was truncated; raise --max-rows to see more\n";
    }
    return;
  }
  json doc = json::parse(response->body, nullptr, false);
  if (!doc.is_object()) Exit(Fail("query failed: the server's response is not JSON"));
  if (doc.contains("success") && doc["success"].is_boolean() && !doc["success"].get<bool>()) {
    Exit(Fail(QueryError(*response)));
  }
  if (flags.format == "csv") {
    PrintCsv(doc);
  } else {
    PrintTable(doc);
  }
  // The server ran into an error after it had started streaming rows.
  if (doc.contains("warning") && doc["warning"].is_string()) {
    std::cout << std::flush;
    std::cerr << "lakegate: warning: " << doc["warning"].get<std::string>() << "\n";
  }
}

}  // namespace

void AddTokenCommand(CLI::App& app) {
  struct Flags {
    ClientFlags client;
    bool print_claims = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "token", "Get an access token (client-credentials grant) and print it; cached until "
               "60 s before it expires");
  AddClientFlags(cmd, flags->client);
  cmd->add_flag("--print-claims", flags->print_claims,
                "Print the token's decoded header and claims (JSON) instead of the token");
  cmd->footer(
      "Environment: LAKEGATE_ENDPOINT, LAKEGATE_CLIENT_ID, LAKEGATE_CLIENT_SECRET,\n"
      "LAKEGATE_SECRETS_FILE. Cache: $XDG_CACHE_HOME/lakegate (else ~/.cache/lakegate).\n\n"
      "Examples:\n"
      "  export LAKEGATE_ENDPOINT=http://127.0.0.1:8080\n"
      "  TOKEN=$(lakegate token --secrets-file lakegate-demo/secrets/etl-service.json)\n"
      "  curl -H \"Authorization: Bearer $TOKEN\" $LAKEGATE_ENDPOINT/v1/query ...\n"
      "  lakegate token --secrets-file s.json --scope athena-api/query.read --print-claims");
  cmd->callback([flags] {
    auto creds = ResolveCredentials(flags->client);
    if (!creds.ok()) Exit(Fail(creds.status()));
    auto token = GetToken(*creds);
    if (!token.ok()) Exit(Fail(token.status()));
    if (!flags->print_claims) {
      std::cout << token->value << "\n";
      return;
    }
    json out = json::object();
    std::vector<std::string_view> parts;
    std::string_view rest = token->value;
    for (size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1)) {
      parts.push_back(rest.substr(0, dot));
    }
    parts.push_back(rest);
    const char* names[] = {"header", "claims"};
    for (size_t i = 0; i < 2 && i < parts.size(); ++i) {
      auto decoded = Base64UrlDecode(parts[i]);
      json part = decoded ? json::parse(*decoded, nullptr, false) : json();
      if (part.is_discarded()) part = nullptr;
      out[names[i]] = part;
    }
    std::cout << out.dump(2) << "\n";
  });
}

void AddQueryCommand(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Run one SQL statement through the query API and print the result");
  cmd->add_option("sql", flags->sql, "The SQL statement (one)")->required();
  cmd->add_option("--database,-d", flags->database,
                  "Default database for unqualified table names, e.g. analytics");
  cmd->add_option("--format,-f", flags->format, "Output: an aligned table, the raw JSON, or CSV")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--max-rows", flags->max_rows, "Return at most N rows (default: the server's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--param,-p", flags->params,
                  "Value for ?1, ?2, ... in order (repeatable): a JSON scalar (42, 1.5, true, "
                  "null, \"text\") or plain text");
  cmd->add_option("--timeout", flags->timeout, "Seconds to wait for the result")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddClientFlags(cmd, flags->client);
  cmd->footer(
      "Gets (or reuses a cached) token like `lakegate token`; on a 401 with a cached token it\n"
      "fetches a fresh one and retries once.\n\n"
      "Examples:\n"
      "  export LAKEGATE_ENDPOINT=http://127.0.0.1:8080\n"
      "  export LAKEGATE_SECRETS_FILE=lakegate-demo/secrets/reporting-service.json\n"
      "  lakegate query \"SELECT region, count(*) FROM members GROUP BY region\" -d analytics\n"
      "  lakegate query \"SELECT * FROM analytics.members WHERE tier = ?1\" -p gold --format csv");
  cmd->callback([flags] { RunQuery(*flags); });
}

}  // namespace lakegate::cli
