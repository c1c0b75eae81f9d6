"""Integration tests of the client-side CLI: `lakegate token` against the real
`lakegate demo`, and `lakegate query` against a small fake query API (a
Python http.server on 127.0.0.1 port 0 returning canned JSON), plus
`lakegate load` end to end.
"""
import base64
import http.server
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
import unittest

from harness import Server, decode_unverified, request, run_cli

READ = "athena-api/query.read"


def token_requests(url):
    """Number of POST /oauth2/token requests the server has answered."""
    status, data, _ = request(url + "/metrics")
    assert status == 200
    total = 0
    for line in data.decode().splitlines():
        if line.startswith("lakegate_http_requests_total{") and 'route="/oauth2/token"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


class CacheDirMixin:
    def setUp(self):
        self.cache = tempfile.mkdtemp(prefix="lakegate-cache-")
        self.env = {"XDG_CACHE_HOME": self.cache, "LAKEGATE_ENDPOINT": "",
                    "LAKEGATE_CLIENT_ID": "", "LAKEGATE_CLIENT_SECRET": "",
                    "LAKEGATE_SECRETS_FILE": ""}

    def tearDown(self):
        shutil.rmtree(self.cache, ignore_errors=True)

    def cache_files(self):
        d = os.path.join(self.cache, "lakegate")
        return sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []

    def cli(self, *args, env=None, check=True):
        return run_cli(*args, env={**self.env, **(env or {})}, check=check)


class TokenCommandTest(CacheDirMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.secrets = os.path.join(cls.server.dir, "secrets")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def token(self, *args, client="etl-service", **kw):
        return self.cli("token", "--endpoint", self.server.url, "--secrets-file",
                        os.path.join(self.secrets, client + ".json"), *args, **kw)

    def test_prints_token_and_caches_it_0600_and_reuses_it(self):
        before = token_requests(self.server.url)
        first = self.token().stdout.strip()
        self.assertEqual(token_requests(self.server.url), before + 1)
        _, claims = decode_unverified(first)
        self.assertEqual(claims["client_id"], self.server.secret("etl-service")["client_id"])
        files = self.cache_files()
        self.assertEqual(len(files), 1)
        self.assertEqual(stat.S_IMODE(os.stat(files[0]).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(files[0])).st_mode), 0o700)
        with open(files[0]) as f:
            cached = json.load(f)
        self.assertEqual(cached["access_token"], first)
        self.assertEqual(cached["expires_at"], claims["exp"])
        secret = self.server.secret("etl-service")["client_secret"]
        with open(files[0]) as f:
            self.assertNotIn(secret, f.read())
        # The second call is served from the cache: no token request at all.
        second = self.token().stdout.strip()
        self.assertEqual(second, first)
        self.assertEqual(token_requests(self.server.url), before + 1)

    def test_no_cache_fetches_and_writes_nothing(self):
        before = token_requests(self.server.url)
        a = self.token("--no-cache").stdout.strip()
        b = self.token("--no-cache").stdout.strip()
        self.assertNotEqual(decode_unverified(a)[1]["jti"], decode_unverified(b)[1]["jti"])
        self.assertEqual(token_requests(self.server.url), before + 2)
        self.assertEqual(self.cache_files(), [])

    def test_scope_is_part_of_the_cache_key_and_print_claims(self):
        self.token()
        out = self.token("--scope", READ, "--print-claims").stdout
        doc = json.loads(out)
        self.assertEqual(doc["claims"]["scope"], READ)
        self.assertEqual(doc["header"]["typ"], "at+jwt")
        self.assertEqual(len(self.cache_files()), 2)

    def test_environment_variables(self):
        creds = self.server.secret("reporting-service")
        out = self.cli("token", env={"LAKEGATE_ENDPOINT": self.server.url + "/",
                                     "LAKEGATE_CLIENT_ID": creds["client_id"],
                                     "LAKEGATE_CLIENT_SECRET": creds["client_secret"]}).stdout
        self.assertEqual(decode_unverified(out.strip())[1]["client_id"], creds["client_id"])
        out = self.cli("token", "--no-cache", env={
            "LAKEGATE_ENDPOINT": self.server.url,
            "LAKEGATE_SECRETS_FILE": os.path.join(self.secrets, "monitoring-service.json")}).stdout
        self.assertEqual(decode_unverified(out.strip())[1]["client_id"],
                         self.server.secret("monitoring-service")["client_id"])

    def test_expiring_or_unsafe_cache_entries_are_not_used(self):
        first = self.token().stdout.strip()
        path = self.cache_files()[0]
        with open(path) as f:
            doc = json.load(f)
        doc["expires_at"] = int(time.time()) + 30  # inside the 60 s margin
        with open(path, "w") as f:
            json.dump(doc, f)
        before = token_requests(self.server.url)
        second = self.token().stdout.strip()
        self.assertNotEqual(second, first)
        self.assertEqual(token_requests(self.server.url), before + 1)
        os.chmod(path, 0o644)  # readable by others: ignored (and replaced 0600)
        third = self.token().stdout.strip()
        self.assertNotEqual(third, second)
        self.assertEqual(token_requests(self.server.url), before + 2)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_wrong_secret_is_reported_and_never_printed(self):
        creds = self.server.secret("etl-service")
        bad = creds["client_secret"][:-4] + "AAAA"
        proc = self.cli("token", "--endpoint", self.server.url, "--client-id", creds["client_id"],
                        "--client-secret", bad, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        self.assertRegex(proc.stderr, r"^lakegate: token request failed: invalid_client: .+\n$")
        self.assertNotIn(bad, proc.stderr)
        self.assertEqual(self.cache_files(), [])

    def test_invalid_scope(self):
        proc = self.token("--scope", "athena-api/query.write", client="reporting-service",
                          check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith("lakegate: token request failed: invalid_scope"),
                        proc.stderr)

    def test_missing_endpoint_and_credentials(self):
        proc = self.cli("token", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "lakegate: no endpoint: pass --endpoint URL or set "
                         "LAKEGATE_ENDPOINT (the URL `lakegate demo` prints)\n")
        proc = self.cli("token", "--endpoint", self.server.url, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("lakegate: no client id:", proc.stderr)
        proc = self.cli("token", "--endpoint", self.server.url, "--client-id", "x", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("lakegate: no client secret:", proc.stderr)
        proc = self.cli("token", "--endpoint", "ftp://127.0.0.1", "--client-id", "x",
                        check=False)
        self.assertIn("endpoint must start with http:// or https://", proc.stderr)

    def test_unreachable_endpoint(self):
        proc = self.cli("token", "--endpoint", "http://127.0.0.1:1", "--client-id", "x",
                        "--client-secret", "y", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith(
            "lakegate: token request failed: cannot reach http://127.0.0.1:1/oauth2/token"),
            proc.stderr)

    def test_help_has_example(self):
        for cmd in ("token", "query", "load"):
            out = run_cli(cmd, "--help").stdout
            self.assertIn("Example", out, cmd)
            self.assertIn("lakegate " + cmd, out, cmd)


# --- a fake query API -----------------------------------------------------------

def fake_jwt(exp, jti):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    return enc({"alg": "ES256", "typ": "at+jwt"}) + "." + enc({"exp": exp, "jti": jti}) + ".sig"


class FakeApi:
    """Serves /oauth2/token and /v1/query from canned responses; records requests."""

    def __init__(self):
        self.requests = []          # (path, headers dict, body bytes)
        self.query_responses = []   # queue of (status, content type, body)
        self.reject_tokens = set()  # bearer tokens answered with 401
        self.tokens_issued = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                api.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                     body))
                if self.path == "/oauth2/token":
                    api.tokens_issued += 1
                    tok = fake_jwt(int(time.time()) + 3600, api.tokens_issued)
                    self.reply(200, "application/json",
                               json.dumps({"access_token": tok, "expires_in": 3600,
                                           "token_type": "Bearer"}))
                    return
                auth = self.headers.get("Authorization", "")
                if auth.removeprefix("Bearer ") in api.reject_tokens:
                    self.reply(401, "application/json", json.dumps(
                        {"success": False, "error": {"code": "UNAUTHENTICATED",
                                                     "message": "token revoked"}}))
                    return
                status, ctype, text, extra = api.query_responses.pop(0)
                self.reply(status, ctype, text, extra)

            def reply(self, status, ctype, text, extra=None):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def queries(self):
        return [(h, json.loads(b)) for p, h, b in self.requests if p == "/v1/query"]


OK_RESULT = {
    "success": True, "authMethod": "CLIENT_CREDENTIALS", "clientId": "c1",
    "scopes": [READ], "lfRole": "lf-dev-role", "database": "analytics", "queryId": "q-1",
    "columns": [{"name": "member_id", "type": "INTEGER"}, {"name": "name", "type": "TEXT"},
                {"name": "lifetime_value", "type": "REAL"}],
    "rowCount": 3, "truncated": False,
    "data": [{"member_id": 1, "name": "Ada Alvarez", "lifetime_value": 12.5},
             {"member_id": 22, "name": None, "lifetime_value": 3},
             {"member_id": 333, "name": "x" * 100, "lifetime_value": None}],
}


class QueryCommandTest(CacheDirMixin, unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.api = FakeApi()
        self.env.update({"LAKEGATE_ENDPOINT": self.api.url, "LAKEGATE_CLIENT_ID": "c1",
                         "LAKEGATE_CLIENT_SECRET": "s3cret-value"})

    def tearDown(self):
        self.api.close()
        super().tearDown()

    def respond(self, status=200, body=None, ctype="application/json", headers=None):
        text = body if isinstance(body, str) else json.dumps(body)
        self.api.query_responses.append((status, ctype, text, headers))

    def test_table_output(self):
        self.respond(body=OK_RESULT)
        out = self.cli("query", "SELECT member_id, name, lifetime_value FROM members",
                       "--database", "analytics").stdout
        long = "x" * 37 + "..."
        self.assertEqual(out,
                         "member_id | name" + " " * 36 + " | lifetime_value\n"
                         "----------+-" + "-" * 40 + "-+---------------\n"
                         "        1 | Ada Alvarez" + " " * 29 + " |           12.5\n"
                         "       22 | NULL" + " " * 36 + " |              3\n"
                         "      333 | " + long + " | NULL\n"
                         "(3 rows)\n")
        (headers, body), = self.api.queries()
        self.assertEqual(body, {"query": "SELECT member_id, name, lifetime_value FROM members",
                                "database": "analytics", "format": "json"})
        self.assertTrue(headers["authorization"].startswith("Bearer "))
        # The token request used client_secret_basic.
        token_req = [r for r in self.api.requests if r[0] == "/oauth2/token"][0]
        self.assertEqual(token_req[1]["authorization"],
                         "Basic " + base64.b64encode(b"c1:s3cret-value").decode())
        self.assertEqual(token_req[2], b"grant_type=client_credentials")

    def test_truncated_single_row_and_parameters(self):
        self.respond(body={**OK_RESULT, "data": OK_RESULT["data"][:1], "rowCount": 1,
                           "truncated": True})
        out = self.cli("query", "SELECT * FROM members WHERE tier = ?1 AND id > ?2", "-p", "gold",
                       "-p", "42", "-p", "null", "-p", '"7"', "--max-rows", "1").stdout
        self.assertTrue(out.endswith("(1 row)\n(truncated: the result has more rows; raise "
                                     "--max-rows to see them)\n"), out)
        (_, body), = self.api.queries()
        self.assertEqual(body["parameters"], ["gold", 42, None, "7"])
        self.assertEqual(body["maxRows"], 1)
        self.assertNotIn("database", body)

    def test_json_output_is_raw(self):
        raw = json.dumps(OK_RESULT)
        self.respond(body=raw)
        out = self.cli("query", "SELECT 1", "--format", "json").stdout
        self.assertEqual(out, raw + "\n")

    def test_csv_output_from_json_and_raw_csv(self):
        doc = {**OK_RESULT, "data": [{"member_id": 1, "name": 'a, "b"', "lifetime_value": None},
                                     {"member_id": 2, "name": "", "lifetime_value": 1.5}]}
        self.respond(body=doc)
        out = self.cli("query", "SELECT 1", "--format", "csv").stdout
        self.assertEqual(out, 'member_id,name,lifetime_value\n1,"a, ""b""",\n2,"",1.5\n')
        self.assertEqual(self.api.queries()[0][1]["format"], "csv")
        self.respond(body="a,b\r\n1,2\r\n", ctype="text/csv",
                     headers={"X-Result-Truncated": "false"})
        proc = self.cli("query", "SELECT 1", "--format", "csv")
        self.assertEqual(proc.stdout, "a,b\n1,2\n")  # (text mode reads CRLF as LF)
        self.assertEqual(proc.stderr, "")
        self.respond(body="a\r\n1\r\n", ctype="text/csv; charset=utf-8; header=present",
                     headers={"X-Result-Truncated": "true"})
        proc = self.cli("query", "SELECT 1", "--format", "csv", "--max-rows", "1")
        self.assertEqual(proc.stdout, "a\n1\n")
        self.assertEqual(proc.stderr, "lakegate: warning: the result was truncated; raise "
                                      "--max-rows to see more\n")

    def test_warning_of_a_result_cut_mid_stream(self):
        self.respond(body={**OK_RESULT, "truncated": True, "warning": "query timed out"})
        proc = self.cli("query", "SELECT 1")
        self.assertIn("(3 rows)\n(truncated", proc.stdout)
        self.assertEqual(proc.stderr, "lakegate: warning: query timed out\n")

    def test_error_response(self):
        self.respond(403, {"success": False, "queryId": "q-9",
                           "error": {"code": "PERMISSION_DENIED",
                                     "message": "column email is not granted"}})
        proc = self.cli("query", "SELECT email FROM members", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr, "lakegate: query failed (403 PERMISSION_DENIED): column "
                                      "email is not granted [queryId q-9]\n")
        self.respond(502, "<html>bad gateway</html>", ctype="text/html")
        proc = self.cli("query", "SELECT 1", check=False)
        self.assertEqual(proc.stderr,
                         "lakegate: query failed (502 HTTP_502): <html>bad gateway</html>\n")

    def test_401_with_cached_token_retries_once_with_a_fresh_token(self):
        self.respond(body=OK_RESULT)
        self.cli("query", "SELECT 1")
        self.assertEqual(self.api.tokens_issued, 1)
        self.respond(body=OK_RESULT)
        self.cli("query", "SELECT 1")  # cached token
        self.assertEqual(self.api.tokens_issued, 1)
        first = self.api.queries()[0][0]["authorization"].removeprefix("Bearer ")
        self.api.reject_tokens.add(first)
        self.respond(body=OK_RESULT)
        out = self.cli("query", "SELECT 1").stdout
        self.assertTrue(out.endswith("(3 rows)\n"))
        self.assertEqual(self.api.tokens_issued, 2)
        auths = [h["authorization"] for h, _ in self.api.queries()]
        self.assertEqual(len(auths), 4)
        self.assertEqual(auths[2], "Bearer " + first)
        self.assertNotEqual(auths[3], auths[2])
        with open(self.cache_files()[0]) as f:
            self.assertEqual("Bearer " + json.load(f)["access_token"], auths[3])

    def test_401_without_cache_is_not_retried(self):
        issued = self.api.tokens_issued
        self.respond(401, {"success": False, "error": {"code": "UNAUTHENTICATED",
                                                        "message": "token expired"}})
        proc = self.cli("query", "SELECT 1", "--no-cache", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "lakegate: query failed (401 UNAUTHENTICATED): token "
                                      "expired\n")
        self.assertEqual(self.api.tokens_issued, issued + 1)
        self.assertEqual(len(self.api.queries()), 1)

    def test_secret_is_never_printed(self):
        self.respond(500, {"success": False, "error": {"code": "INTERNAL", "message": "boom"}})
        proc = self.cli("query", "SELECT 1", check=False)
        self.assertNotIn("s3cret-value", proc.stdout + proc.stderr)
        self.assertEqual(proc.stderr, "lakegate: query failed (500 INTERNAL): boom\n")


class LoadCommandTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lakegate-load-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_load_csv_then_ndjson_then_bad_file(self):
        lake = os.path.join(self.dir, "lake")
        path = self.write("m.csv", "id,name,value\n1,a,1.5\n2,\"b, c\",\n")
        out = run_cli("load", "sales.items", path, "--create", "--lake", lake).stdout
        self.assertRegex(out, r"^loaded 2 rows into sales\.items \(created\) in [0-9.]+ s "
                              r"\([0-9]+ rows/s\)\ncolumns: id INTEGER, name TEXT, value REAL\n$")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(lake, "sales.db")).st_mode), 0o600)
        path = self.write("m.jsonl", '{"id": 3, "name": "d"}\n')
        run_cli("load", "sales.items", path, "--lake", lake)
        bad = self.write("bad.csv", "id,name,value\n4,e,1\n5,f,oops\n")
        proc = run_cli("load", "sales.items", bad, "--lake", lake, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "lakegate: " + bad + ":3: column 'value' is REAL but the "
                         "value 'oops' is not a number; nothing was loaded\n")
        db = sqlite3.connect(os.path.join(lake, "sales.db"))
        self.assertEqual(db.execute("SELECT id, name, value FROM items ORDER BY id").fetchall(),
                         [(1, "a", 1.5), (2, "b, c", None), (3, "d", None)])
        db.close()

    def test_usage_errors(self):
        path = self.write("x.txt", "a\n1\n")
        proc = run_cli("load", "items", path, "--lake", self.dir, check=False)
        self.assertEqual(proc.stderr, "lakegate: expected DATABASE.TABLE, e.g. analytics.members; "
                                      "got 'items'\n")
        proc = run_cli("load", "a.b", path, "--lake", self.dir, check=False)
        self.assertIn("pass --format csv|ndjson", proc.stderr)
        proc = run_cli("load", "a.b", path, "--format", "csv", "--lake", self.dir, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith("lakegate: database 'a' does not exist"),
                        proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "a.db")))

    def test_lake_dir_from_stack_file(self):
        # The lake next to the stack file, until the stack file names one.
        with Server(directory=self.dir) as server:
            path = self.write("t.csv", "k\n1\n")
            proc = run_cli("load", "demo2.t", path, "--create", "--config", server.stack_file)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "lake", "demo2.db")), proc.stdout)


if __name__ == "__main__":
    unittest.main()
