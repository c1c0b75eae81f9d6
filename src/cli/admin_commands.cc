#include "cli/admin_commands.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/access_keys.h"
#include "app/apply.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/strings.h"
#include "config/stack_config.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "gateway/jwks_fetcher.h"
#include "jose/jwk.h"
#include "oauth/client_secret.h"
#include "oauth/key_manager.h"
#include "oauth/private_key_jwt.h"
#include "oauth/tls_client_auth.h"
#include "store/store.h"

namespace lakegate::cli {
namespace {

// Finds a client by id or by name.
store::ClientRecord FindClientOrExit(store::Store& store, const std::string& id_or_name) {
  auto by_id = store.FindClient(id_or_name);
  if (!by_id.ok()) Exit(Fail(by_id.status()));
  if (*by_id) return **by_id;
  auto by_name = store.FindClientByName(id_or_name);
  if (!by_name.ok()) Exit(Fail(by_name.status()));
  if (*by_name) return **by_name;
  Exit(Fail("no client with id or name '" + id_or_name + "'; `lakegate client list` shows them"));
}

std::string FormatTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void PrintClient(const store::ClientRecord& c) {
  std::cout << "name:        " << c.name << "\n"
            << "client_id:   " << c.client_id << "\n"
            << "enabled:     " << (c.enabled ? "yes" : "no") << "\n"
            << "scopes:      " << Join(c.scopes, " ") << "\n"
            << "token_ttl:   " << FormatDuration(c.token_ttl_seconds) << "\n"
            << "auth:        " << c.auth_method << "\n"
            << "dpop:        " << (c.dpop_bound_access_tokens ? "required" : "optional") << "\n"
            << "managed:     " << (c.managed ? "by the stack file" : "by hand (CLI)") << "\n"
            << "created:     " << FormatTime(c.created_at) << "\n"
            << "updated:     " << FormatTime(c.updated_at) << "\n";
  if (!c.jwks_uri.empty()) std::cout << "jwks_uri:    " << c.jwks_uri << "\n";
  if (!c.tls_client_auth_field.empty()) {
    std::cout << c.tls_client_auth_field << ": " << c.tls_client_auth_value << "\n";
  }
  if (c.tls_client_certificate_bound_access_tokens) {
    std::cout << "tokens:      bound to the client's TLS certificate\n";
  }
  if (c.auth_method == oauth::kSelfSignedTlsClientAuth) {
    auto certificates = jose::JwksCertificates(c.jwks);
    std::cout << "certificates (x5t#S256): ";
    if (certificates.ok()) {
      for (size_t i = 0; i < certificates->size(); ++i) {
        std::cout << (i ? ", " : "") << oauth::CertificateThumbprint((*certificates)[i]);
      }
    }
    std::cout << "\n";
  } else if (!c.jwks.empty()) {
    auto keys = jose::ParseJwks(c.jwks);
    std::cout << "public keys: ";
    if (keys.ok()) {
      for (size_t i = 0; i < keys->size(); ++i) {
        std::cout << (i ? ", " : "") << (*keys)[i].kid << " ("
                  << crypto::AlgorithmName((*keys)[i].key.algorithm()) << ")";
      }
    }
    std::cout << "\n";
  }
  if (!c.previous_secret_hash.empty()) {
    std::cout << "old secret:  valid until " << FormatTime(c.previous_secret_expires_at) << "\n";
  }
}

// Writes the new secret to the secrets file when one exists for this client
// (the demo layout) or when `always` is set.
void MaybeUpdateSecretFile(const Context& ctx, const store::ClientRecord& c,
                           const SecretString& secret, bool always) {
  std::string dir = app::SecretsDir(ctx.stack);
  if (!always && !FileExists(dir + "/" + c.name + ".json")) return;
  auto path = app::WriteSecretFile(dir, c.name, c.client_id, secret);
  if (!path.ok()) Exit(Fail(path.status()));
  std::cout << "secret written to " << *path << " (mode 0600)\n";
}

// The access key id of a <client>-aws.json file, "" when there is none.
std::string AwsFileKeyId(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return "";
  auto doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  std::fill(text->begin(), text->end(), '\0');
  if (!doc.is_object() || !doc.contains("aws_access_key_id") ||
      !doc["aws_access_key_id"].is_string()) {
    return "";
  }
  return doc["aws_access_key_id"].get<std::string>();
}

void AddAccessKeyCommands(CLI::App* client) {
  struct Flags {
    std::string config;
    std::string target;
    std::string access_key_id;
    bool write_secret_file = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* keys = client->add_subcommand(
      "access-key",
      "Manage a client's AWS access keys (Signature Version 4, for the Athena-compatible "
      "endpoint: boto3, the AWS CLI, PyAthena)");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand(
      "create", "Create an access key for a client and print its secret once (at most " +
                    std::to_string(oauth::kMaxAccessKeysPerClient) + " keys per client)");
  create->add_option("client", flags->target, "Client id or name")->required();
  create->add_option("--access-key-id", flags->access_key_id,
                     "Use this id (16-128 characters of A-Z and 0-9) instead of a generated one");
  create->add_flag("--write-secret-file", flags->write_secret_file,
                   "Also write <secrets_dir>/<client>-aws.json (mode 0600); done anyway when "
                   "that file exists, as in the demo");
  AddConfigOption(create, flags->config);
  create->footer(
      "Examples:\n  lakegate client access-key create reporting-service\n"
      "  aws configure set aws_access_key_id LGAK...   # then aws_secret_access_key\n"
      "  aws athena list-work-groups --endpoint-url http://127.0.0.1:8080 --region us-east-1");
  create->callback([flags] {
    Context ctx = OpenContext(flags->config);
    store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
    auto created = app::CreateAccessKey(*ctx.store, *ctx.sealer, c.client_id,
                                        SystemClock::Get().NowSeconds(), flags->access_key_id);
    if (!created.ok()) {
      Exit(Fail("cannot create an access key for client '" + c.name +
                "': " + created.status().message()));
    }
    std::cout << "client:          " << c.name << " (" << c.client_id << ")\n"
              << "AccessKeyId:     " << created->record.access_key_id << "\n"
              << "SecretAccessKey: " << created->secret.Reveal() << "\n"
              << "(shown once: store it now; AWS SDKs read them as aws_access_key_id and "
                 "aws_secret_access_key)\n";
    if (!c.enabled)
      std::cout << "note: client " << c.name << " is disabled; the key works once it is enabled\n";
    const std::string dir = app::SecretsDir(ctx.stack);
    if (flags->write_secret_file || FileExists(app::AwsSecretFile(dir, c.name))) {
      auto path =
          app::WriteAwsSecretFile(dir, c.name, created->record.access_key_id, created->secret);
      if (!path.ok()) Exit(Fail(path.status()));
      std::cout << "written to " << *path << " (mode 0600)\n";
    }
  });

  CLI::App* list = keys->add_subcommand("list", "List access keys (ids and dates, never secrets)");
  list->add_option("client", flags->target, "Only this client (id or name)");
  AddConfigOption(list, flags->config);
  list->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::string only;
    if (!flags->target.empty()) only = FindClientOrExit(*ctx.store, flags->target).client_id;
    auto all = ctx.store->ListAccessKeys();
    if (!all.ok()) Exit(Fail(all.status()));
    auto clients = ctx.store->ListClients();
    if (!clients.ok()) Exit(Fail(clients.status()));
    std::printf("%-24s %-24s %s\n", "ACCESS_KEY_ID", "CLIENT", "CREATED");
    for (const auto& k : *all) {
      if (!only.empty() && k.client_id != only) continue;
      std::string name = k.client_id;
      for (const auto& c : *clients) {
        if (c.client_id == k.client_id) name = c.name;
      }
      std::printf("%-24s %-24s %s\n", k.access_key_id.c_str(), name.c_str(),
                  FormatTime(k.created_at).c_str());
    }
  });

  CLI::App* del =
      keys->add_subcommand("delete", "Delete a client's access key (at once, on every node)");
  del->add_option("client", flags->target, "Client id or name")->required();
  del->add_option("access_key_id", flags->access_key_id, "The access key id")->required();
  AddConfigOption(del, flags->config);
  del->callback([flags] {
    Context ctx = OpenContext(flags->config);
    store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
    Status deleted = ctx.store->RunInTransaction([&](store::Store& tx) -> Status {
      LG_ASSIGN_OR_RETURN(std::vector<store::AccessKeyRecord> all, tx.ListAccessKeys());
      const bool owned = std::any_of(all.begin(), all.end(), [&](const auto& k) {
        return k.access_key_id == flags->access_key_id && k.client_id == c.client_id;
      });
      if (!owned) {
        return NotFoundError("client '" + c.name + "' has no access key " + flags->access_key_id +
                             "; `lakegate client access-key list " + c.name + "` shows its keys");
      }
      return tx.DeleteAccessKey(flags->access_key_id);
    });
    if (!deleted.ok()) Exit(Fail(deleted));
    const std::string file = app::AwsSecretFile(app::SecretsDir(ctx.stack), c.name);
    if (AwsFileKeyId(file) == flags->access_key_id) std::filesystem::remove(file);
    std::cout << "access key " << flags->access_key_id << " of client " << c.name << " deleted\n";
  });
}

struct ClientFlags {
  std::string config;
  std::string target;
  std::vector<std::string> scopes;
  std::string ttl = "1h";
  std::string grace = "24h";
  bool write_secret_file = false;
  bool yes = false;
  std::string auth = "client_secret_basic";
  std::string jwks_file;
  std::string jwks_uri;
  // tls_client_auth: the certificate field (RFC 8705 §2.1.2) and its value.
  std::string tls_subject_dn, tls_san_dns, tls_san_uri, tls_san_ip, tls_san_email;
  std::string cert_file;  // self_signed_tls_client_auth
  bool bound_tokens = false;
  bool dpop_required = false;
};

}  // namespace

void AddApplyCommand(CLI::App& app) {
  struct Flags {
    std::string path;
    bool dry_run = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "apply", "Reconcile the state store with a stack file and print what changed");
  cmd->add_option("file", flags->path, "Stack file (YAML)")->required();
  cmd->add_flag("--dry-run", flags->dry_run, "Only print the change set; write nothing");
  AddStateOption(cmd);
  cmd->footer(
      "Examples:\n  lakegate apply stack.yaml --dry-run\n  lakegate apply stack.yaml\n"
      "  lakegate apply stack.yaml --state postgresql://lakegate@db:5432/lakegate");
  cmd->callback([flags] {
    Context ctx = OpenContext(flags->path);
    auto result = app::ApplyStack(ctx.stack, *ctx.store, *ctx.hasher, SystemClock::Get(),
                                  app::SecretsDir(ctx.stack), flags->dry_run);
    if (!result.ok()) Exit(Fail(result.status()));
    std::cout << app::FormatChanges(*result, flags->dry_run);
  });
}

void AddClientCommands(CLI::App& app) {
  CLI::App* client = app.add_subcommand("client", "Manage OAuth clients in the state store");
  client->require_subcommand(1);
  auto flags = std::make_shared<ClientFlags>();

  CLI::App* create = client->add_subcommand(
      "create", "Create a client; prints its secret once (or registers its public keys)");
  create->add_option("name", flags->target, "Client name, e.g. billing-etl")->required();
  create
      ->add_option("--scope,-s", flags->scopes,
                   "Allowed scope (repeatable), e.g. athena-api/query.read")
      ->required();
  create->add_option("--ttl", flags->ttl, "Token lifetime, 5m..1d")->capture_default_str();
  create->add_flag("--write-secret-file", flags->write_secret_file,
                   "Also write <stack dir>/secrets/<name>.json (mode 0600)");
  create
      ->add_option("--auth", flags->auth,
                   "How the client authenticates: client_secret_basic (a generated secret) or "
                   "private_key_jwt (assertions signed with its private key; needs --jwks or "
                   "--jwks-uri), tls_client_auth (a CA-issued TLS client certificate; needs one "
                   "of --tls-subject-dn, --tls-san-dns, --tls-san-uri, --tls-san-ip, "
                   "--tls-san-email) or self_signed_tls_client_auth (a registered certificate; "
                   "needs --cert)")
      ->check(CLI::IsMember({"client_secret_basic", "client_secret_post", "private_key_jwt",
                             "tls_client_auth", "self_signed_tls_client_auth"}))
      ->capture_default_str();
  create->add_option("--tls-subject-dn", flags->tls_subject_dn,
                     "tls_client_auth: the certificate's subject, RFC 4514, e.g. "
                     "\"CN=billing,O=Example\"");
  create->add_option("--tls-san-dns", flags->tls_san_dns,
                     "tls_client_auth: a dNSName the certificate's subjectAltName holds");
  create->add_option("--tls-san-uri", flags->tls_san_uri,
                     "tls_client_auth: a URI the certificate's subjectAltName holds");
  create->add_option("--tls-san-ip", flags->tls_san_ip,
                     "tls_client_auth: an IP address the certificate's subjectAltName holds");
  create->add_option("--tls-san-email", flags->tls_san_email,
                     "tls_client_auth: an e-mail address the certificate's subjectAltName holds");
  create->add_option("--cert", flags->cert_file,
                     "self_signed_tls_client_auth: the client's certificate (PEM; several for a "
                     "rollover)");
  create->add_flag("--bound-tokens", flags->bound_tokens,
                   "Issue the client only tokens bound to its TLS client certificate "
                   "(tls_client_certificate_bound_access_tokens, RFC 8705 §3)");
  auto* jwks = create->add_option("--jwks", flags->jwks_file,
                                  "private_key_jwt: file with the client's public keys as a JWK "
                                  "Set {\"keys\":[...]}, each with a kid");
  auto* jwks_uri = create->add_option(
      "--jwks-uri", flags->jwks_uri,
      "private_key_jwt: https URL the client publishes its JWK Set at (fetched and cached)");
  jwks->excludes(jwks_uri);
  create->add_flag("--dpop-required", flags->dpop_required,
                   "Refuse token requests without a DPoP proof (RFC 9449 "
                   "dpop_bound_access_tokens): every token of the client is DPoP-bound");
  AddConfigOption(create, flags->config);
  create->footer(
      "Examples:\n  lakegate client create billing-etl --scope athena-api/query.read --ttl 15m\n"
      "  lakegate client create signer --scope athena-api/query.read --auth private_key_jwt "
      "--jwks signer-jwks.json\n"
      "  lakegate client create billing --scope athena-api/query.read --auth tls_client_auth "
      "--tls-subject-dn \"CN=billing,O=Example\"\n"
      "  lakegate client create probe --scope athena-api/query.read --auth "
      "self_signed_tls_client_auth --cert probe.pem");
  create->callback([flags] {
    Context ctx = OpenContext(flags->config);
    auto ttl = ParseDurationSeconds(flags->ttl);
    if (!ttl.ok()) Exit(Fail(ttl.status()));
    if (*ttl < 300 || *ttl > 86400) Exit(Fail("--ttl must be between 5m and 1d"));
    auto servers = ctx.store->ListResourceServers();
    if (!servers.ok()) Exit(Fail(servers.status()));
    std::vector<std::string> known;
    for (const auto& rs : *servers)
      for (const auto& s : rs.scopes) known.push_back(rs.identifier + "/" + s.name);
    for (const auto& s : flags->scopes) {
      if (std::find(known.begin(), known.end(), s) == known.end()) {
        Exit(Fail("unknown scope '" + s + "'; declared scopes: " +
                  (known.empty() ? std::string("(none; declare resource_servers in the stack file)")
                                 : Join(known, " "))));
      }
    }
    store::ClientRecord record;
    record.client_id = oauth::GenerateClientId();
    record.name = flags->target;
    record.scopes = flags->scopes;
    record.token_ttl_seconds = *ttl;
    record.created_at = record.updated_at = SystemClock::Get().NowSeconds();
    record.dpop_bound_access_tokens = flags->dpop_required;
    record.tls_client_certificate_bound_access_tokens = flags->bound_tokens;
    const std::pair<const char*, const std::string*> tls_fields[] = {
        {"tls_client_auth_subject_dn", &flags->tls_subject_dn},
        {"tls_client_auth_san_dns", &flags->tls_san_dns},
        {"tls_client_auth_san_uri", &flags->tls_san_uri},
        {"tls_client_auth_san_ip", &flags->tls_san_ip},
        {"tls_client_auth_san_email", &flags->tls_san_email},
    };
    for (const auto& [field, value] : tls_fields) {
      if (value->empty()) continue;
      if (flags->auth != oauth::kTlsClientAuth) {
        Exit(Fail("--tls-subject-dn and --tls-san-* need --auth tls_client_auth"));
      }
      if (!record.tls_client_auth_field.empty()) {
        Exit(
            Fail("give one of --tls-subject-dn, --tls-san-dns, --tls-san-uri, --tls-san-ip, "
                 "--tls-san-email, not several"));
      }
      record.tls_client_auth_field = field;
      record.tls_client_auth_value = *value;
    }
    if (!flags->cert_file.empty() && flags->auth != oauth::kSelfSignedTlsClientAuth) {
      Exit(Fail("--cert needs --auth self_signed_tls_client_auth"));
    }
    if (oauth::IsMutualTlsMethod(flags->auth)) {
      record.auth_method = flags->auth;
      Status registered = Status::Ok();
      if (flags->auth == oauth::kTlsClientAuth) {
        registered = oauth::ValidateTlsClientAuth(record.tls_client_auth_field,
                                                  record.tls_client_auth_value);
      } else if (flags->cert_file.empty()) {
        registered = InvalidArgumentError("--cert FILE is missing");
      } else {
        auto pem = ReadFile(flags->cert_file);
        if (!pem.ok()) Exit(Fail(pem.status()));
        auto certificates = crypto::Certificate::ListFromPem(*pem);
        if (!certificates.ok()) Exit(Fail(certificates.status().WithPrefix(flags->cert_file)));
        record.jwks = oauth::SelfSignedJwks(*certificates);
        registered = oauth::ValidateSelfSignedJwks(record.jwks);
      }
      if (!registered.ok()) {
        Exit(Fail(registered.WithPrefix("--auth " + flags->auth +
                                        " needs the client's certificate name or certificate")));
      }
      if (!flags->jwks_file.empty() || !flags->jwks_uri.empty()) {
        Exit(Fail("--jwks and --jwks-uri need --auth private_key_jwt"));
      }
      if (Status s = ctx.store->InsertClient(record); !s.ok()) Exit(Fail(s));
      PrintClient(record);
      std::cout << "(no secret: the client authenticates with its TLS client certificate)\n";
      return;
    }
    if (flags->auth == oauth::kPrivateKeyJwt) {
      record.auth_method = flags->auth;
      record.jwks_uri = flags->jwks_uri;
      if (!flags->jwks_file.empty()) {
        auto text = ReadFile(flags->jwks_file);
        if (!text.ok()) Exit(Fail(text.status()));
        record.jwks = *text;
      }
      Status keys = oauth::ValidateClientKeys(record.jwks, record.jwks_uri);
      if (keys.ok() && !record.jwks_uri.empty()) {
        keys = gateway::CheckJwksUrl(record.jwks_uri, /*allow_insecure_http=*/false);
      }
      if (!keys.ok()) {
        Exit(
            Fail(keys.WithPrefix("--auth private_key_jwt needs the client's public keys (--jwks "
                                 "FILE or --jwks-uri URL)")));
      }
      if (Status s = ctx.store->InsertClient(record); !s.ok()) Exit(Fail(s));
      PrintClient(record);
      std::cout << "(no secret: the client signs assertions with its private key)\n";
      return;
    }
    if (!flags->jwks_file.empty() || !flags->jwks_uri.empty()) {
      Exit(Fail("--jwks and --jwks-uri need --auth private_key_jwt"));
    }
    SecretString secret = oauth::GenerateClientSecret();
    record.secret_hash = ctx.hasher->Hash(secret.Reveal());
    if (Status s = ctx.store->InsertClient(record); !s.ok()) Exit(Fail(s));
    PrintClient(record);
    std::cout << "client_secret: " << secret.Reveal()
              << "\n(shown once: store it now, e.g. in your secrets manager)\n";
    MaybeUpdateSecretFile(ctx, record, secret, flags->write_secret_file);
  });

  CLI::App* list = client->add_subcommand("list", "List clients");
  AddConfigOption(list, flags->config);
  list->callback([flags] {
    Context ctx = OpenContext(flags->config);
    auto clients = ctx.store->ListClients();
    if (!clients.ok()) Exit(Fail(clients.status()));
    std::printf("%-24s %-28s %-8s %-6s %s\n", "NAME", "CLIENT_ID", "ENABLED", "TTL", "SCOPES");
    for (const auto& c : *clients) {
      std::printf("%-24s %-28s %-8s %-6s %s\n", c.name.c_str(), c.client_id.c_str(),
                  c.enabled ? "yes" : "no", FormatDuration(c.token_ttl_seconds).c_str(),
                  Join(c.scopes, " ").c_str());
    }
  });

  CLI::App* show = client->add_subcommand("show", "Show one client (never its secret)");
  show->add_option("client", flags->target, "Client id or name")->required();
  AddConfigOption(show, flags->config);
  show->callback([flags] {
    Context ctx = OpenContext(flags->config);
    store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
    PrintClient(c);
    auto keys = ctx.store->ListAccessKeys();
    if (!keys.ok()) Exit(Fail(keys.status()));
    std::string ids;
    for (const auto& k : *keys) {
      if (k.client_id == c.client_id) ids += (ids.empty() ? "" : ", ") + k.access_key_id;
    }
    if (!ids.empty()) std::cout << "access keys: " << ids << "\n";
  });

  CLI::App* rotate = client->add_subcommand(
      "rotate-secret", "Issue a new secret; the old one keeps working for a grace period");
  rotate->add_option("client", flags->target, "Client id or name")->required();
  rotate
      ->add_option("--grace", flags->grace,
                   "How long the previous secret stays valid (0 = revoke it now)")
      ->capture_default_str();
  AddConfigOption(rotate, flags->config);
  rotate->footer("Example:\n  lakegate client rotate-secret reporting-service --grace 1h");
  rotate->callback([flags] {
    Context ctx = OpenContext(flags->config);
    auto grace = ParseDurationSeconds(flags->grace);
    if (!grace.ok()) Exit(Fail(grace.status()));
    store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
    if (c.auth_method == oauth::kPrivateKeyJwt) {
      Exit(Fail("client '" + c.name +
                "' authenticates with private_key_jwt and has no secret; rotate its key by "
                "registering the new public key (stack file jwks, or its jwks_uri)"));
    }
    int64_t now = SystemClock::Get().NowSeconds();
    SecretString secret = oauth::GenerateClientSecret();
    c.previous_secret_hash = *grace > 0 ? c.secret_hash : "";
    c.previous_secret_expires_at = *grace > 0 ? now + *grace : 0;
    c.secret_hash = ctx.hasher->Hash(secret.Reveal());
    c.updated_at = now;
    if (Status s = ctx.store->UpdateClient(c); !s.ok()) Exit(Fail(s));
    std::cout << "client_id:     " << c.client_id << "\nclient_secret: " << secret.Reveal()
              << "\n(shown once)\n";
    if (*grace > 0) {
      std::cout << "the previous secret stays valid until " << FormatTime(now + *grace) << "\n";
    }
    MaybeUpdateSecretFile(ctx, c, secret, false);
  });

  for (bool enable : {false, true}) {
    CLI::App* cmd = client->add_subcommand(
        enable ? "enable" : "disable",
        enable ? "Enable a client"
               : "Disable a client: no new tokens, and its live tokens stop working");
    cmd->add_option("client", flags->target, "Client id or name")->required();
    AddConfigOption(cmd, flags->config);
    cmd->callback([flags, enable] {
      Context ctx = OpenContext(flags->config);
      store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
      c.enabled = enable;
      c.updated_at = SystemClock::Get().NowSeconds();
      if (Status s = ctx.store->UpdateClient(c); !s.ok()) Exit(Fail(s));
      std::cout << "client " << c.name << " " << (enable ? "enabled" : "disabled") << "\n";
      if (c.managed) {
        std::cout << "note: " << c.name << " is declared in " << ctx.stack.source_path
                  << "; the next apply resets 'enabled' to what the file says\n";
      }
    });
  }

  CLI::App* del = client->add_subcommand("delete", "Delete a client and its secrets");
  del->add_option("client", flags->target, "Client id or name")->required();
  del->add_flag("--yes,-y", flags->yes, "Do not ask for confirmation");
  AddConfigOption(del, flags->config);
  del->callback([flags] {
    Context ctx = OpenContext(flags->config);
    store::ClientRecord c = FindClientOrExit(*ctx.store, flags->target);
    if (!flags->yes) {
      Exit(Fail("deleting client '" + c.name + "' (" + c.client_id +
                ") cannot be undone; run again with --yes"));
    }
    if (Status s = ctx.store->DeleteClient(c.client_id); !s.ok()) Exit(Fail(s));
    std::string file = app::SecretsDir(ctx.stack) + "/" + c.name + ".json";
    if (FileExists(file)) std::filesystem::remove(file);
    // Its access keys went with it (the store deletes them with the client).
    std::string aws_file = app::AwsSecretFile(app::SecretsDir(ctx.stack), c.name);
    if (FileExists(aws_file)) std::filesystem::remove(aws_file);
    std::cout << "client " << c.name << " deleted\n";
  });

  AddAccessKeyCommands(client);
}

void AddKeyCommands(CLI::App& app) {
  CLI::App* key = app.add_subcommand("key", "Manage token signing keys");
  key->require_subcommand(1);
  struct Flags {
    std::string config;
    std::string alg;
  };
  auto flags = std::make_shared<Flags>();

  CLI::App* rotate = key->add_subcommand(
      "rotate", "Make a new signing key; the old one stays in the JWKS until its tokens expire");
  rotate->add_option("--alg", flags->alg,
                     "ES256 (default), EdDSA or RS256; default: the stack file's tokens.algorithm");
  AddConfigOption(rotate, flags->config);
  rotate->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::string name = flags->alg.empty() ? ctx.stack.tokens.algorithm : flags->alg;
    auto alg = crypto::ParseAlgorithm(name);
    if (!alg) Exit(Fail("unknown algorithm '" + name + "'; use ES256, EdDSA or RS256"));
    auto clients = ctx.store->ListClients();
    if (!clients.ok()) Exit(Fail(clients.status()));
    int64_t max_ttl = 300;
    for (const auto& c : *clients) max_ttl = std::max(max_ttl, c.token_ttl_seconds);
    auto kid = oauth::KeyManager::Rotate(*ctx.store, SystemClock::Get(), *alg, max_ttl);
    if (!kid.ok()) Exit(Fail(kid.status()));
    std::cout << "new signing key " << *kid << " (" << name << ") signs from now on;\n"
              << "the previous key stays in the JWKS for " << FormatDuration(max_ttl) << " + "
              << oauth::kKeyPublishLeewaySeconds << "s, until the tokens it signed expire\n";
  });

  CLI::App* list = key->add_subcommand("list", "List signing keys (public information only)");
  AddConfigOption(list, flags->config);
  list->callback([flags] {
    Context ctx = OpenContext(flags->config);
    auto keys = ctx.store->ListSigningKeys();
    if (!keys.ok()) Exit(Fail(keys.status()));
    std::printf("%-45s %-6s %-21s %s\n", "KID", "ALG", "CREATED", "STATE");
    for (const auto& k : *keys) {
      std::string state =
          k.retired_at == 0 ? "signing" : "published until " + FormatTime(k.publish_until);
      std::printf("%-45s %-6s %-21s %s\n", k.kid.c_str(), k.algorithm.c_str(),
                  FormatTime(k.created_at).c_str(), state.c_str());
    }
  });
}

}  // namespace lakegate::cli
