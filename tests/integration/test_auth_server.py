"""Integration tests: the real `lakegate` binary over HTTP on loopback.

Covers every endpoint of the authorization server and its error paths, the
demo contract (architecture §3), the CLI against a running server, restarts
and graceful shutdown.
"""
import http.client
import json
import os
import socket
import stat
import time
import unittest
import urllib.parse

from harness import (Server, basic, decode_unverified, get_json, post_form, request, run_cli)

READ = "athena-api/query.read"
WRITE = "athena-api/query.write"
ADMIN = "athena-api/query.admin"


class DemoServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    # --- the demo contract ----------------------------------------------------
    def test_demo_writes_secret_files_0600_with_url_safe_values(self):
        for client in ("etl-service", "reporting-service", "monitoring-service"):
            path = os.path.join(self.server.dir, "secrets", client + ".json")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
            creds = self.server.secret(client)
            self.assertRegex(creds["client_secret"], r"^[A-Za-z0-9_-]{43,}$")
            self.assertRegex(creds["client_id"], r"^[A-Za-z0-9_-]+$")

    def test_demo_banner_prints_url_clients_and_curl(self):
        out = "".join(self.server.stdout_lines)
        self.assertIn(self.server.url, out)
        for client in ("etl-service", "reporting-service", "monitoring-service"):
            self.assertIn(client, out)
            self.assertIn(self.server.secret(client)["client_id"], out)
        self.assertIn("curl", out)
        self.assertIn("/oauth2/token", out)

    # --- token endpoint -------------------------------------------------------
    def test_token_basic_all_scopes_when_omitted(self):
        status, body, headers = self.server.token("etl-service")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("cache-control"), "no-store")
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3600)
        self.assertEqual(set(body["scope"].split()), {READ, WRITE, ADMIN})
        header, claims = decode_unverified(body["access_token"])
        self.assertEqual(header["typ"], "at+jwt")
        self.assertEqual(header["alg"], "ES256")
        self.assertIn("kid", header)
        creds = self.server.secret("etl-service")
        self.assertEqual(claims["iss"], self.server.url)
        self.assertEqual(claims["sub"], creds["client_id"])
        self.assertEqual(claims["client_id"], creds["client_id"])
        self.assertEqual(claims["token_use"], "access")
        self.assertEqual(claims["version"], 2)
        self.assertEqual(claims["aud"], "athena-api")
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertTrue(claims["jti"])

    def test_token_client_secret_post_and_narrowed_scope(self):
        status, body, _ = self.server.token("etl-service", scope=READ, method="post")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["scope"], READ)
        self.assertEqual(decode_unverified(body["access_token"])[1]["scope"], READ)

    def test_reporting_cannot_get_write_scope(self):
        status, body, _ = self.server.token("reporting-service", scope=f"{READ} {WRITE}")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "invalid_scope")

    def test_both_auth_methods_is_invalid_request(self):
        creds = self.server.secret("etl-service")
        status, body, _ = post_form(self.server.url + "/oauth2/token",
                                    {"grant_type": "client_credentials", **creds},
                                    {"Authorization": basic(creds["client_id"], creds["client_secret"])})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "invalid_request")

    def test_bad_secret_is_invalid_client_401_with_challenge(self):
        creds = self.server.secret("monitoring-service")
        status, body, headers = post_form(
            self.server.url + "/oauth2/token", {"grant_type": "client_credentials"},
            {"Authorization": basic(creds["client_id"], "not-the-secret")})
        self.assertEqual(status, 401)
        self.assertEqual(body["error"], "invalid_client")
        self.assertIn("Basic", headers.get("www-authenticate", ""))

    def test_unsupported_grant_type(self):
        creds = self.server.secret("etl-service")
        status, body, _ = post_form(self.server.url + "/oauth2/token",
                                    {"grant_type": "authorization_code", "code": "x"},
                                    {"Authorization": basic(creds["client_id"], creds["client_secret"])})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "unsupported_grant_type")

    def test_json_body_is_invalid_request(self):
        creds = self.server.secret("etl-service")
        status, data, _ = request(self.server.url + "/oauth2/token", "POST",
                                  b'{"grant_type":"client_credentials"}',
                                  {"Content-Type": "application/json",
                                   "Authorization": basic(creds["client_id"], creds["client_secret"])})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["error"], "invalid_request")

    def test_get_on_token_endpoint_is_405_and_unknown_path_404(self):
        status, _, headers = request(self.server.url + "/oauth2/token")
        self.assertEqual(status, 405)
        self.assertIn("POST", headers.get("allow", ""))
        status, _, _ = request(self.server.url + "/no/such/path")
        self.assertEqual(status, 404)

    def test_oversized_body_is_413(self):
        status, _, _ = request(self.server.url + "/oauth2/token", "POST", b"a" * (64 * 1024),
                               {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 413)

    # --- introspection and revocation ----------------------------------------
    def test_introspect_and_revoke_round_trip(self):
        creds = self.server.secret("reporting-service")
        auth = {"Authorization": basic(creds["client_id"], creds["client_secret"])}
        token = self.server.access_token("reporting-service")
        status, body, headers = post_form(self.server.url + "/oauth2/introspect", {"token": token}, auth)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("cache-control"), "no-store")
        self.assertTrue(body["active"])
        self.assertEqual(body["client_id"], creds["client_id"])
        self.assertEqual(body["scope"], READ)
        # Another client cannot see or revoke it.
        other = self.server.secret("monitoring-service")
        other_auth = {"Authorization": basic(other["client_id"], other["client_secret"])}
        _, body, _ = post_form(self.server.url + "/oauth2/introspect", {"token": token}, other_auth)
        self.assertEqual(body, {"active": False})
        status, body, _ = post_form(self.server.url + "/oauth2/revoke", {"token": token}, other_auth)
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "unauthorized_client")
        # The owner revokes it; it is inactive from then on.
        status, _, _ = post_form(self.server.url + "/oauth2/revoke",
                                 {"token": token, "token_type_hint": "access_token"}, auth)
        self.assertEqual(status, 200)
        _, body, _ = post_form(self.server.url + "/oauth2/introspect", {"token": token}, auth)
        self.assertEqual(body, {"active": False})
        # Revoking garbage is 200 too (RFC 7009 §2.2); unauthenticated is 401.
        status, _, _ = post_form(self.server.url + "/oauth2/revoke", {"token": "garbage"}, auth)
        self.assertEqual(status, 200)
        status, body, _ = post_form(self.server.url + "/oauth2/revoke", {"token": token})
        self.assertEqual(status, 401)
        self.assertEqual(body["error"], "invalid_client")

    # --- discovery, keys, health, metrics -------------------------------------
    def test_jwks_and_metadata(self):
        status, jwks, headers = get_json(self.server.url + "/.well-known/jwks.json")
        self.assertEqual(status, 200)
        self.assertIn("max-age", headers.get("cache-control", ""))
        key = jwks["keys"][0]
        self.assertEqual((key["kty"], key["crv"], key["alg"], key["use"]), ("EC", "P-256", "ES256", "sig"))
        self.assertNotIn("d", key)  # never the private part
        kid = decode_unverified(self.server.access_token())[0]["kid"]
        self.assertIn(kid, [k["kid"] for k in jwks["keys"]])
        for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
            status, meta, _ = get_json(self.server.url + path)
            self.assertEqual(status, 200)
            self.assertEqual(meta["issuer"], self.server.url)
            self.assertEqual(meta["token_endpoint"], self.server.url + "/oauth2/token")
            self.assertEqual(meta["jwks_uri"], self.server.url + "/.well-known/jwks.json")
            self.assertEqual(meta["grant_types_supported"], ["client_credentials"])
            self.assertIn("client_secret_basic", meta["token_endpoint_auth_methods_supported"])
            self.assertIn(READ, meta["scopes_supported"])

    def test_health_ready_and_metrics(self):
        self.assertEqual(request(self.server.url + "/healthz")[0], 200)
        self.assertEqual(request(self.server.url + "/readyz")[0], 200)
        self.server.access_token()
        status, data, headers = request(self.server.url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        text = data.decode()
        # Every series names the node (host:port unless --node says otherwise).
        port = self.server.url.rsplit(":", 1)[1]
        self.assertRegex(text, r'lakegate_http_requests_total\{node="[^"]+:%s",'
                               r'route="/oauth2/token",status="200"\}' % port)
        self.assertIn("lakegate_http_request_duration_seconds_bucket", text)
        self.assertIn('outcome="issued"', text)
        series = [l for l in text.splitlines() if l and not l.startswith("#")]
        self.assertTrue(all('{node="' in l for l in series), series[:3])

    def test_audit_log_has_token_lines_without_secrets(self):
        token = self.server.access_token("monitoring-service")
        time.sleep(0.3)  # the audit writer flushes every 50 ms
        with open(os.path.join(self.server.dir, "state", "audit.log")) as f:
            lines = [json.loads(line) for line in f]
        issued = [l for l in lines if l["event"] == "token" and l["outcome"] == "issued"]
        self.assertTrue(issued)
        for field in ("time", "client_id", "requested_scope", "granted_scope", "outcome", "remote"):
            self.assertIn(field, issued[-1])
        text = json.dumps(lines)
        self.assertNotIn(token, text)
        for client in ("etl-service", "reporting-service", "monitoring-service"):
            self.assertNotIn(self.server.secret(client)["client_secret"], text)


def post_form_from(source_ip, url, form, headers):
    """POSTs a form from a chosen loopback source address (all of 127.0.0.0/8
    is this host), as another machine would reach the server."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10,
                                      source_address=(source_ip, 0))
    try:
        conn.request("POST", parsed.path, urllib.parse.urlencode(form).encode(),
                     {"Content-Type": "application/x-www-form-urlencoded", **headers})
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


class RateLimitTest(unittest.TestCase):
    def test_failed_auth_gets_429_with_retry_after_but_tolerates_honest_mistakes(self):
        with Server() as server:
            creds = server.secret("reporting-service")
            codes = []
            for _ in range(25):
                status, _, headers = post_form(server.url + "/oauth2/token",
                                               {"grant_type": "client_credentials"},
                                               {"Authorization": basic(creds["client_id"], "wrong")})
                codes.append(status)
            self.assertTrue(all(c == 401 for c in codes[:10]), codes)  # >= 10 honest mistakes
            self.assertEqual(codes[-1], 429)
            # This address failed too often for this client: refused for it.
            status, body, headers = server.token("reporting-service")
            self.assertEqual(status, 429)
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            # Other clients keep working (per-address budget is larger).
            self.assertEqual(server.token("etl-service")[0], 200)

    def test_a_stranger_cannot_lock_a_client_out(self):
        with Server() as server:
            creds = server.secret("monitoring-service")
            url = server.url + "/oauth2/token"
            form = {"grant_type": "client_credentials"}
            wrong = {"Authorization": basic(creds["client_id"], "wrong")}
            right = {"Authorization": basic(creds["client_id"], creds["client_secret"])}
            stranger, owner = "127.0.0.66", "127.0.0.2"
            codes = [post_form_from(stranger, url, form, wrong)[0] for _ in range(50)]
            self.assertTrue(all(c == 401 for c in codes[:10]), codes)
            self.assertEqual(codes[-1], 429)
            # The client's correct secret from its own address: 200.
            status, body, _ = post_form_from(owner, url, form, right)
            self.assertEqual(status, 200, body)
            # The stranger stays throttled, with Retry-After.
            status, body, headers = post_form_from(stranger, url, form, wrong)
            self.assertEqual(status, 429)
            self.assertEqual(json.loads(body)["error"], "temporarily_unavailable")
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            # /metrics, which anyone may read, names no client.
            text = request(server.url + "/metrics")[1].decode()
            self.assertIn("lakegate_token_requests_total", text)
            self.assertNotIn(creds["client_id"], text)
            self.assertNotIn("client=", text)


class CliAgainstRunningServerTest(unittest.TestCase):
    def test_key_rotation_client_lifecycle_and_restart(self):
        with Server() as server:
            old_token = server.access_token()
            old_kid = decode_unverified(old_token)[0]["kid"]
            out = server.cli("key", "rotate").stdout
            self.assertIn("new signing key", out)
            new_kid = self._wait_for(lambda: decode_unverified(server.access_token())[0]["kid"],
                                     lambda kid: kid != old_kid)
            _, jwks, _ = get_json(server.url + "/.well-known/jwks.json")
            kids = [k["kid"] for k in jwks["keys"]]
            self.assertIn(old_kid, kids)  # still published: its tokens have not expired
            self.assertIn(new_kid, kids)
            self.assertIn("signing", server.cli("key", "list").stdout)

            # A client made by hand works at once, shows its secret once, never again.
            out = server.cli("client", "create", "billing-etl", "--scope", READ, "--ttl", "15m").stdout
            secret = [l.split()[-1] for l in out.splitlines() if l.startswith("client_secret:")][0]
            client_id = [l.split()[-1] for l in out.splitlines() if l.startswith("client_id:")][0]
            auth = {"Authorization": basic(client_id, secret)}
            status = self._wait_for(
                lambda: post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, auth)[0],
                lambda s: s == 200)
            self.assertEqual(status, 200)
            self.assertNotIn(secret, server.cli("client", "show", "billing-etl").stdout)
            self.assertIn("billing-etl", server.cli("client", "list").stdout)

            # Rotation with a grace period: both secrets work.
            out = server.cli("client", "rotate-secret", "billing-etl", "--grace", "1h").stdout
            new_secret = [l.split()[-1] for l in out.splitlines() if l.startswith("client_secret:")][0]
            new_auth = {"Authorization": basic(client_id, new_secret)}
            self._wait_for(
                lambda: post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, new_auth)[0],
                lambda s: s == 200)
            self.assertEqual(post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, auth)[0], 200)

            # Disable: token requests fail and its live token is inactive.
            live = post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, new_auth)[1]["access_token"]
            server.cli("client", "disable", "billing-etl")
            body = self._wait_for(
                lambda: post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, new_auth)[1],
                lambda b: b.get("error") == "unauthorized_client")
            self.assertEqual(body["error"], "unauthorized_client")
            self.assertEqual(post_form(server.url + "/oauth2/introspect", {"token": live}, new_auth)[1],
                             {"active": False})
            # Delete needs --yes.
            self.assertNotEqual(server.cli("client", "delete", "billing-etl", check=False).returncode, 0)
            server.cli("client", "delete", "billing-etl", "--yes")
            self.assertNotIn("billing-etl", server.cli("client", "list").stdout)

            before = {c: server.secret(c) for c in ("etl-service", "reporting-service")}
            self.assertEqual(server.stop(), 0)  # graceful SIGTERM exits 0

            # Restart: same clients, same secrets, old tokens still verify.
            server.start()
            self.assertEqual(before, {c: server.secret(c) for c in before})
            creds = server.secret("reporting-service")
            _, body, _ = post_form(server.url + "/oauth2/introspect", {"token": server.access_token("reporting-service")},
                                   {"Authorization": basic(creds["client_id"], creds["client_secret"])})
            self.assertTrue(body["active"])

    @staticmethod
    def _wait_for(fn, ok, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            value = fn()
            if ok(value) or time.time() > deadline:
                return value
            time.sleep(0.1)


class ApplyAndConfigTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        os.makedirs(self.server.dir, exist_ok=True)

    def tearDown(self):
        self.server.cleanup()

    def write(self, text):
        path = os.path.join(self.server.dir, "stack.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    STACK = """\
resource_servers:
  - identifier: api
    name: API
    scopes:
      - name: read
      - name: write
clients:
  - name: svc-a
    scopes: [api/read]
"""

    def test_apply_is_idempotent_and_prints_a_change_set(self):
        path = self.write(self.STACK)
        dry = run_cli("apply", path, "--dry-run").stdout
        self.assertIn("+ create", dry)
        self.assertIn("svc-a", dry)
        self.assertFalse(os.path.exists(os.path.join(self.server.dir, "secrets", "svc-a.json")))
        first = run_cli("apply", path).stdout
        self.assertIn("+ create", first)
        secret_file = os.path.join(self.server.dir, "secrets", "svc-a.json")
        self.assertEqual(stat.S_IMODE(os.stat(secret_file).st_mode), 0o600)
        with open(secret_file) as f:
            secret = f.read()
        second = run_cli("apply", path).stdout
        self.assertIn("0 change(s)", second)
        with open(secret_file) as f:
            self.assertEqual(f.read(), secret)  # never regenerated silently
        self.write(self.STACK.replace("[api/read]", "[api/read, api/write]") +
                   "  - name: svc-b\n    scopes: [api/write]\n")
        third = run_cli("apply", path).stdout
        self.assertIn("~ update", third)
        self.assertIn("svc-b", third)
        self.write(self.STACK)
        fourth = run_cli("apply", path).stdout
        self.assertIn("- delete", fourth)
        self.assertIn("svc-b", fourth)

    def test_config_errors_name_file_line_and_fix(self):
        path = self.write(self.STACK + "    scops: [api/read]\n")
        proc = run_cli("apply", path, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("stack.yaml:10", proc.stderr)
        self.assertIn("scopes", proc.stderr)  # did you mean
        path = self.write(self.STACK.replace("[api/read]", "[api/delete]"))
        proc = run_cli("apply", path, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("api/delete", proc.stderr)

    def test_serve_with_config_and_port_in_use(self):
        path = self.write(self.STACK)
        with Server(["serve", "--config", path, "--port", "0"], directory=self.server.dir) as srv:
            creds = srv.secret("svc-a")
            status, body, _ = post_form(srv.url + "/oauth2/token", {"grant_type": "client_credentials"},
                                        {"Authorization": basic(creds["client_id"], creds["client_secret"])})
            self.assertEqual(status, 200, body)
            port = int(srv.url.rsplit(":", 1)[1])
            proc = run_cli("serve", "--config", path, "--port", str(port), check=False, timeout=20)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(str(port), proc.stderr)

    def test_help_on_every_command(self):
        for args in (["--help"], ["demo", "--help"], ["serve", "--help"], ["apply", "--help"],
                     ["client", "--help"], ["client", "create", "--help"], ["client", "list", "--help"],
                     ["client", "show", "--help"], ["client", "rotate-secret", "--help"],
                     ["client", "disable", "--help"], ["client", "enable", "--help"],
                     ["client", "delete", "--help"], ["key", "--help"], ["key", "rotate", "--help"],
                     ["key", "list", "--help"]):
            proc = run_cli(*args, check=False)
            self.assertEqual(proc.returncode, 0, args)
            self.assertIn("Usage", proc.stdout + proc.stderr, args)
        proc = run_cli("client", "list", "--config", "/nonexistent/stack.yaml", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("lakegate demo", proc.stderr)


class SlowClientTest(unittest.TestCase):
    def test_slowloris_is_cut_and_server_keeps_serving(self):
        with Server() as server:
            host, port = server.url.split("//")[1].split(":")
            s = socket.create_connection((host, int(port)))
            s.sendall(b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
            # Meanwhile others are served.
            self.assertEqual(server.token()[0], 200)
            s.close()


if __name__ == "__main__":
    unittest.main()
