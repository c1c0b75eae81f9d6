"""Integration tests of the query API: the real binary, the demo stack and a
custom stack with short limits, over HTTP on loopback."""
import http.client
import json
import os
import sqlite3
import tempfile
import threading
import time
import unittest

from harness import Server, basic, get_json, post_form, request, run_cli

QUERY_STACK = """\
listen: {port: 0}
resource_servers:
  - identifier: athena-api
    name: Athena
    scopes: [query.read, query.write, query.admin]
clients:
  - name: writer
    scopes: [athena-api/query.read, athena-api/query.write]
  - name: reader
    scopes: [athena-api/query.read]
  - name: nobody
    scopes: [athena-api/query.admin]
query:
  timeout: 1s
  max_rows: 50
  max_concurrent_per_client: 2
  max_queued_per_client: 1
roles:
  - name: super
    grants: [{database: "*", table: "*", permissions: [ALL]}]
  - name: dev
    grants:
      - {database: analytics, permissions: [DESCRIBE]}
      - {database: analytics, table: members, permissions: [SELECT], columns: {exclude: [email]}}
role_rules:
  clients: [{client: writer, role: super}]
  scopes: [{scope: athena-api/query.read, role: dev}]
"""


def run_query(server, token, sql, **extra):
    body = json.dumps({"query": sql, **extra}).encode()
    status, data, headers = request(server.url + "/v1/query", "POST", body,
                                    {"Authorization": "Bearer " + token,
                                     "Content-Type": "application/json"}, timeout=30)
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = data.decode()
    return status, parsed, headers


# The engine the demo runs on: $LAKEGATE_TEST_ENGINE_URL (a PostgreSQL
# database, see CMakeLists.txt), the Trino cluster of the ctest fixture
# trino.start ($LAKEGATE_TEST_TRINO_DIR: the demo listens on the port the
# cluster asks for decisions, DIR/lakegate-port) or the embedded SQLite
# engine. The statements below are the same on all, apart from SQL dialect
# (parameter markers, an aggregate's name, how a role lists a table's
# columns).
ENGINE_URL = os.environ.get("LAKEGATE_TEST_ENGINE_URL", "")
TRINO_DIR = os.environ.get("LAKEGATE_TEST_TRINO_DIR", "")
DEMO_PORT = "0"
if TRINO_DIR:
    with open(os.path.join(TRINO_DIR, "url")) as f:
        ENGINE_URL = "trino://" + f.read().strip().split("://", 1)[1] + "?dir=" + TRINO_DIR
    with open(os.path.join(TRINO_DIR, "lakegate-port")) as f:
        DEMO_PORT = f.read().strip()
POSTGRES = ENGINE_URL.startswith(("postgresql:", "postgres:"))
TRINO = ENGINE_URL.startswith("trino:")
PARAM = "$1" if POSTGRES else "?"
LIST_AGG = ("string_agg(email, ',')" if POSTGRES else "array_join(array_agg(email), ',')" if TRINO
            else "group_concat(email)")
COLUMNS_OF_MEMBERS = ("SELECT column_name AS name FROM information_schema.columns "
                      "WHERE table_name = 'members'" if POSTGRES or TRINO
                      else "SELECT * FROM pragma_table_info('members')")


class DemoQueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp(prefix="lakegate-it-")
        args = ["demo", "--dir", d, "--port", DEMO_PORT] + (["--engine", ENGINE_URL] if ENGINE_URL else [])
        cls.server = Server(args, directory=d)
        cls.server.own_dir = True  # removed with the server
        # On Trino the demo loads its table through the cluster before it serves.
        cls.server.start(timeout=240 if TRINO else 30)
        cls.etl = cls.server.access_token("etl-service")
        cls.rep = cls.server.access_token("reporting-service")
        if TRINO:  # the cluster's lake outlives the demo
            status, body, _ = run_query(cls.server, cls.etl, "DROP TABLE IF EXISTS analytics.scratch")
            assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_seed_response_shape_and_typed_values(self):
        status, body, headers = run_query(self.server, self.etl, "SELECT * FROM members ORDER BY member_id LIMIT 3")
        self.assertEqual(status, 200, body)
        for key in ("success", "authMethod", "clientId", "scopes", "lfRole", "database", "queryId",
                    "columns", "rowCount", "truncated", "data"):
            self.assertIn(key, body)
        self.assertEqual(body["authMethod"], "CLIENT_CREDENTIALS")
        self.assertEqual(body["lfRole"], "lf-super-user-role")
        self.assertEqual(body["database"], "analytics")
        self.assertEqual(body["rowCount"], 3)
        self.assertEqual(headers.get("x-query-id"), body["queryId"])
        row = body["data"][0]
        self.assertIsInstance(row["member_id"], int)
        self.assertIsInstance(row["lifetime_value"], float)
        self.assertIsInstance(row["email"], str)
        self.assertEqual([c["name"] for c in body["columns"]][:3], ["member_id", "name", "email"])

    def test_alias_path_qualified_names_and_parameters(self):
        status, body, _ = request(self.server.url + "/query-client-creds", "POST",
                                  json.dumps({"query": "SELECT count(*) AS n FROM analytics.members WHERE member_id <= " + PARAM,
                                              "parameters": [100]}).encode(),
                                  {"Authorization": "Bearer " + self.rep, "Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["data"], [{"n": 100}])

    def test_dev_role_never_sees_email(self):
        status, body, _ = run_query(self.server, self.rep, "SELECT * FROM members LIMIT 5")
        self.assertEqual(status, 200)
        self.assertEqual(body["lfRole"], "lf-dev-role")
        self.assertNotIn("email", [c["name"] for c in body["columns"]])
        for sql in ("SELECT email FROM members",
                    'SELECT "email" FROM members',
                    "SELECT (SELECT email FROM members LIMIT 1)",
                    "WITH m AS (SELECT * FROM analytics.members) SELECT email FROM m",
                    "SELECT count(*) FROM members WHERE email LIKE 'member0%'",
                    "SELECT name FROM members ORDER BY email LIMIT 1",
                    "SELECT " + LIST_AGG + " FROM members"):
            status, body, _ = run_query(self.server, self.rep, sql)
            self.assertEqual(status, 400, sql)
            self.assertIn("email", body["error"]["message"], sql)
            self.assertNotIn("@example.com", json.dumps(body), sql)
        status, body, _ = run_query(self.server, self.rep, COLUMNS_OF_MEMBERS)
        self.assertEqual(status, 200, body)
        self.assertNotIn("email", [r["name"] for r in body["data"]])

    def test_read_scope_cannot_write_and_attach_is_denied(self):
        for sql in ("DELETE FROM members", "INSERT INTO members(member_id) VALUES (99999)",
                    "CREATE TABLE t AS SELECT 1 AS x", "DROP TABLE members"):
            status, body, _ = run_query(self.server, self.rep, sql)
            self.assertEqual(status, 403, (sql, body))
            self.assertEqual(body["success"], False)
        for token in (self.rep, self.etl):
            status, body, _ = run_query(self.server, token, f"ATTACH '{self.server.dir}/lake/analytics.db' AS raw")
            self.assertIn(status, (400, 403), body)
            status, body, _ = run_query(self.server, token, "VACUUM INTO '/tmp/lakegate-stolen.db'")
            self.assertIn(status, (400, 403), body)
        self.assertFalse(os.path.exists("/tmp/lakegate-stolen.db"))

    def test_write_scope_writes_through_the_super_role(self):
        status, body, _ = run_query(self.server, self.etl, "CREATE TABLE analytics.scratch AS SELECT 1 AS x")
        self.assertEqual(status, 200, body)
        status, body, _ = run_query(self.server, self.etl, "INSERT INTO scratch VALUES (2), (3)")
        self.assertEqual(status, 200, body)
        status, body, _ = run_query(self.server, self.etl, "SELECT sum(x) AS s FROM scratch")
        self.assertEqual(body["data"], [{"s": 6}])
        # The dev role has no grant on it: it does not exist as far as it can tell.
        status, body, _ = run_query(self.server, self.rep, "SELECT * FROM scratch")
        self.assertEqual(status, 400)
        self.assertIn("no such table", body["error"]["message"])
        # Like a table that does not exist.
        status, missing, _ = run_query(self.server, self.rep, "SELECT * FROM no_such_scratch")
        self.assertEqual(status, 400)
        self.assertEqual(missing["error"]["message"].replace("no_such_scratch", "scratch"),
                         body["error"]["message"])

    def test_formats_truncation_and_errors(self):
        status, data, headers = request(self.server.url + "/v1/query", "POST",
                                        json.dumps({"query": "SELECT member_id, name FROM members ORDER BY 1 LIMIT 3",
                                                    "format": "csv"}).encode(),
                                        {"Authorization": "Bearer " + self.rep, "Content-Type": "application/json"})
        self.assertEqual(status, 200)
        lines = data.decode().strip().splitlines()
        self.assertEqual(lines[0], "member_id,name")
        self.assertEqual(len(lines), 4)
        status, data, _ = request(self.server.url + "/v1/query", "POST",
                                  json.dumps({"query": "SELECT member_id FROM members LIMIT 3",
                                              "format": "ndjson"}).encode(),
                                  {"Authorization": "Bearer " + self.rep, "Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(len([json.loads(l) for l in data.decode().splitlines() if l.strip()]), 3)
        status, body, _ = run_query(self.server, self.rep, "SELECT * FROM members", maxRows=7)
        self.assertEqual((status, body["rowCount"], body["truncated"]), (200, 7, True))
        status, body, _ = run_query(self.server, self.rep, "SELEC 1")
        self.assertEqual(status, 400)
        self.assertEqual(body["success"], False)
        self.assertIn("queryId", body)
        status, body, _ = run_query(self.server, self.rep, "SELECT 1; SELECT 2")
        self.assertEqual(status, 400)
        status, body, _ = run_query(self.server, self.rep, "SELECT 1", bogus=1)
        self.assertEqual(status, 400)
        self.assertIn("bogus", body["error"]["message"])
        status, _, headers = request(self.server.url + "/v1/query", "POST", b'{"query":"SELECT 1"}',
                                     {"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers.get("www-authenticate", ""))
        # The server answers from the announced length, before any body byte,
        # and closes: a client still sending 2 MiB may meet the closed socket
        # (BrokenPipe under load), so only the headers are sent.
        host, port = self.server.url.split("://", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.putrequest("POST", "/v1/query")
            conn.putheader("Authorization", "Bearer " + self.rep)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(2 << 20))
            conn.endheaders()
            response = conn.getresponse()
            status, data = response.status, response.read()
        finally:
            conn.close()
        self.assertEqual(status, 413)
        # Even a refusal by the HTTP layer has the query API's error shape.
        body = json.loads(data)
        self.assertEqual(body["success"], False)
        self.assertEqual(body["error"]["code"], "payload_too_large")

    def test_catalog_lists_only_visible_columns(self):
        status, data, _ = request(self.server.url + "/v1/catalog", headers={"Authorization": "Bearer " + self.rep})
        self.assertEqual(status, 200, data)
        text = data.decode()
        self.assertIn("members", text)
        self.assertNotIn("email", text)

    def test_audit_has_one_line_per_query(self):
        status, body, _ = run_query(self.server, self.rep, "SELECT 42 AS answer")
        self.assertEqual(status, 200)
        time.sleep(0.3)
        with open(os.path.join(self.server.dir, "state", "audit.log")) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        mine = [l for l in lines if l.get("queryId") == body["queryId"] or l.get("query_id") == body["queryId"]]
        self.assertEqual(len(mine), 1, lines[-3:])
        text = json.dumps(mine[0])
        self.assertIn("lf-dev-role", text)
        self.assertIn("SELECT 42", text)
        self.assertNotIn(self.rep, text)
        # The node that served it: host:port unless --node names it.
        self.assertTrue(mine[0]["node"].endswith(":" + self.server.url.rsplit(":", 1)[1]))


class LimitsTest(unittest.TestCase):
    def test_timeout_concurrency_and_unmapped_client(self):
        d = tempfile.mkdtemp(prefix="lakegate-q-")
        path = os.path.join(d, "stack.yaml")
        with open(path, "w") as f:
            f.write(QUERY_STACK)
        os.makedirs(os.path.join(d, "lake"), exist_ok=True)
        with sqlite3.connect(os.path.join(d, "lake", "analytics.db")) as db:
            db.execute("CREATE TABLE members(member_id INTEGER, name TEXT, email TEXT)")
            db.execute("INSERT INTO members VALUES (1, 'a', 'x@y')")
        with Server(["serve", "--config", path, "--port", "0"], directory=d) as server:
            writer = server.access_token("writer")
            runaway = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
            started = time.time()
            status, body, _ = run_query(server, writer, runaway)
            self.assertEqual(status, 408, body)
            self.assertLess(time.time() - started, 10)
            self.assertEqual(request(server.url + "/healthz")[0], 200)
            status, body, _ = run_query(server, writer, "SELECT * FROM members")
            self.assertEqual(status, 200)
            # max_rows caps maxRows.
            status, body, _ = run_query(server, writer, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 500) SELECT i FROM r", maxRows=1000)
            self.assertEqual((status, body["rowCount"], body["truncated"]), (200, 50, True))
            # Per-client concurrency: 2 run, 1 waits, the others get 429.
            results = []
            def slow():
                results.append(run_query(server, writer, runaway)[0])
            threads = [threading.Thread(target=slow) for _ in range(5)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # Normally [408, 408, 408, 429, 429]; a thread that starts late
            # on a loaded machine may find a free place in the queue instead.
            self.assertLessEqual(set(results), {408, 429}, results)
            self.assertIn(429, results)
            self.assertGreaterEqual(results.count(408), 3, results)
            # The reader maps to dev through the scope rule.
            status, body, _ = run_query(server, server.access_token("reader"), "SELECT name FROM members")
            self.assertEqual((status, body["lfRole"]), (200, "dev"))
            # No client rule and no scope rule matches: 403 naming the client.
            status, body, _ = run_query(server, server.access_token("nobody"), "SELECT 1")
            self.assertEqual(status, 403)
            self.assertIn("nobody", body["error"]["message"])


HARDENING_STACK = """\
listen: {port: 0}
resource_servers:
  - identifier: athena-api
    name: Athena
    scopes: [query.read, query.write]
clients:
  - name: writer
    scopes: [athena-api/query.read, athena-api/query.write]
  - name: reader
    scopes: [athena-api/query.read]
query:
  timeout: 1s
  max_memory: 33554432
roles:
  - name: super
    grants: [{database: "*", table: "*", permissions: [ALL]}]
  - name: dev
    grants:
      - {database: "*", table: "*", permissions: [DESCRIBE]}
      - {database: analytics, table: members, permissions: [SELECT], columns: {exclude: [email]}}
%s
role_rules:
  clients: [{client: writer, role: super}]
  scopes: [{scope: athena-api/query.read, role: dev}]
"""


def server_rss_bytes(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


class ResourceLimitsTest(unittest.TestCase):
    """Issue 14: no request creates a lake file, a lake with more databases
    than SQLite attaches at once works, a query's memory is bounded, and the
    timeout stops slow built-in functions."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lakegate-limits-")
        cls.lake = os.path.join(cls.dir, "lake")
        os.makedirs(cls.lake)
        with sqlite3.connect(os.path.join(cls.lake, "analytics.db")) as db:
            db.execute("CREATE TABLE members(member_id INTEGER, name TEXT, email TEXT)")
            db.execute("INSERT INTO members VALUES (1, 'a', 'x@y')")
        cls.extra = ["db_%02d" % i for i in range(15)]
        grants = []
        for i, name in enumerate(cls.extra):
            with sqlite3.connect(os.path.join(cls.lake, name + ".db")) as db:
                db.execute("CREATE TABLE t(id INTEGER, secret TEXT)")
                db.execute("INSERT INTO t VALUES (?, 'hidden')", (i,))
            grants.append("      - {database: %s, table: t, permissions: [SELECT], "
                          "columns: {exclude: [secret]}}" % name)
        path = os.path.join(cls.dir, "stack.yaml")
        with open(path, "w") as f:
            f.write(HARDENING_STACK % "\n".join(grants))
        cls.server = Server(["serve", "--config", path, "--port", "0"], directory=cls.dir).start()
        cls.writer = cls.server.access_token("writer")
        cls.reader = cls.server.access_token("reader")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_unknown_databases_create_no_file_and_the_lake_keeps_serving(self):
        for i in range(1, 13):
            name = "zz_%d" % i
            for token in (self.reader, self.writer):
                status, body, _ = run_query(self.server, token, "SELECT 1 AS x", database=name)
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"]["code"], "invalid_query")
                self.assertEqual(body["error"]["message"], "unknown database: " + name)
            self.assertFalse(os.path.exists(os.path.join(self.lake, name + ".db")), name)
        for token in (self.reader, self.writer):
            status, body, _ = run_query(self.server, token, "SELECT name FROM members")
            self.assertEqual(status, 200, body)
            status, data, _ = request(self.server.url + "/v1/catalog",
                                      headers={"Authorization": "Bearer " + token})
            self.assertEqual(status, 200, data)
            names = {d["name"] for d in json.loads(data)["databases"]}
            self.assertTrue(set(self.extra) <= names, names)

    def test_a_lake_of_sixteen_databases_serves_each(self):
        for i, name in enumerate(self.extra):
            for token in (self.reader, self.writer):
                status, body, _ = run_query(self.server, token, "SELECT id FROM t", database=name)
                self.assertEqual((status, body.get("data")), (200, [{"id": i}]), body)
        status, body, _ = run_query(self.server, self.reader,
                                    "SELECT a.id + b.id AS n FROM db_02.t a, db_13.t b")
        self.assertEqual((status, body.get("data")), (200, [{"n": 15}]), body)

    def test_a_query_cannot_exceed_its_memory_limit(self):
        bomb = ("WITH RECURSIVE r(i, x) AS (SELECT 1, hex(zeroblob(50000)) UNION ALL "
                "SELECT i + 1, x FROM r WHERE i < 10) SELECT " +
                " + ".join("length(group_concat(x, 's%d'))" % i for i in range(600)) + " FROM r")
        for token in (self.reader, self.writer):
            status, body, _ = run_query(self.server, token, bomb)
            self.assertEqual(status, 413, body)
            self.assertEqual(body["error"]["code"], "memory_limit_exceeded")
            self.assertEqual(body["error"]["message"],
                             "the query needed more memory than the limit of 32 MiB")
        # The server holds far less than the ~600 MB the query asked for.
        self.assertLess(server_rss_bytes(self.server), 400 << 20)
        status, body, _ = run_query(self.server, self.reader, "SELECT name FROM members")
        self.assertEqual(status, 200, body)

    def test_the_timeout_stops_slow_built_in_functions(self):
        cases = [
            ("SELECT hex(zeroblob(500000)) LIKE ('%' || hex(zeroblob(2500)) || 'x') AS v", 408),
            ("SELECT hex(zeroblob(500000)) GLOB ('*' || hex(zeroblob(2500)) || 'x') AS v", 408),
            ("SELECT instr(hex(zeroblob(250000)), hex(zeroblob(125000)) || 'x') AS v", 200),
        ]
        for sql, expected in cases:
            for token in (self.reader, self.writer):
                started = time.time()
                status, body, _ = run_query(self.server, token, sql)
                self.assertEqual(status, expected, (sql, body))
                self.assertLess(time.time() - started, 3.0, sql)
                if expected == 408:
                    self.assertEqual(body["error"]["code"], "query_timeout")


class ComponentsTest(unittest.TestCase):
    """`serve --components`: the auth server and the query API as two
    processes over one state store."""

    def test_auth_and_query_in_separate_processes(self):
        demo = Server().start()  # writes the demo stack, lake and secrets
        demo.stop()
        d = demo.dir
        path = demo.stack_file
        try:
            # Without a shared issuer the processes could not agree on `iss`.
            r = run_cli("serve", "--config", path, "--components", "query", "--port", "0",
                        check=False, timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("needs `issuer:` in the stack file", r.stderr)
            r = run_cli("serve", "--config", path, "--components", "auth,sql", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("unknown component 'sql'", r.stderr)

            with open(path, "a") as f:
                f.write("\nissuer: https://lakegate.test\n")
            with Server(["serve", "--config", path, "--components", "auth", "--port", "0"],
                        directory=d) as auth, \
                 Server(["serve", "--config", path, "--components", "query", "--port", "0",
                         "--node", "query-1"], directory=d) as query:
                token = auth.access_token("reporting-service")
                status, body, _ = run_query(query, token, "SELECT count(*) AS n FROM members")
                self.assertEqual((status, body.get("data")), (200, [{"n": 1000}]), body)
                self.assertEqual(body["lfRole"], "lf-dev-role")
                # Each process serves only its part.
                self.assertEqual(run_query(auth, token, "SELECT 1")[0], 404)
                self.assertEqual(query.token("reporting-service")[0], 404)
                self.assertEqual(request(query.url + "/.well-known/jwks.json")[0], 404)
                self.assertEqual(request(auth.url + "/healthz")[0], 200)
                self.assertEqual(request(query.url + "/readyz")[0], 200)
                # A revocation at the auth process reaches the query process
                # through the store.
                creds = auth.secret("reporting-service")
                status, _, _ = post_form(auth.url + "/oauth2/revoke", {"token": token},
                                         {"Authorization": basic(creds["client_id"],
                                                                 creds["client_secret"])})
                self.assertEqual(status, 200)
                deadline = time.time() + 5
                while time.time() < deadline:
                    status, _, _ = run_query(query, token, "SELECT 1")
                    if status == 401:
                        break
                    time.sleep(0.05)
                self.assertEqual(status, 401)
                # --node names this process in its audit lines and metrics.
                self.assertIn('{node="query-1"', request(query.url + "/metrics")[1].decode())
                def query_lines():
                    with open(os.path.join(d, "state", "audit.log")) as f:
                        return [json.loads(l) for l in f if '"event":"query"' in l]
                deadline = time.time() + 5
                while time.time() < deadline and not query_lines():
                    time.sleep(0.05)
                self.assertTrue(query_lines())
                self.assertTrue(all(l["node"] == "query-1" for l in query_lines()))
        finally:
            demo.cleanup()


if __name__ == "__main__":
    unittest.main()
