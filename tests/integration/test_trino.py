"""lakegate governing a Trino cluster (docs/trino.md), end to end.

Needs the cluster of the ctest fixture trino.start (scripts/trino.sh, Trino
476 on a JDK 24+): $LAKEGATE_TEST_TRINO_DIR holds its directory, its URL in
`url` and the port lakegate must listen on in `lakegate-port` (Trino asks
that address for decisions and reads lakegate's keys from the directory).
Runs on the python of scripts/python-venv.sh (the `trino` client from PyPI).

  - the Python `trino` client, straight to Trino with a lakegate token: the
    dev role sees no email, the analyst sees names only in EU rows and masked,
    hidden tables are invisible, a read-scope token cannot INSERT;
  - the query API on the Trino engine gives the demo's answers;
  - the decision endpoint answers only the cluster; the decisions a query
    costs, counted by lakegate.
"""
import json
import os
import ssl
import tempfile
import unittest
import urllib.error
import urllib.request

import trino
from trino.auth import JWTAuthentication

from harness import Server, request

DIR = os.environ.get("LAKEGATE_TEST_TRINO_DIR", "")
CA = os.path.join(DIR, "tls", "ca.pem")
# requests lets these override a session's own CA file (verify=CA).
for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(var, None)


def read(name):
    with open(os.path.join(DIR, name)) as f:
        return f.read().strip()


@unittest.skipUnless(DIR and os.path.exists(os.path.join(DIR, "url")),
                     "no Trino cluster (ctest fixture trino.start)")
class TrinoGovernanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.trino_url = read("url")
        cls.port = read("lakegate-port")
        host_port = cls.trino_url.split("://", 1)[1]
        cls.tmp = tempfile.mkdtemp(prefix="lakegate-trino-it-")
        cls.server = Server(["demo", "--dir", cls.tmp, "--port", cls.port, "--engine",
                             f"trino://{host_port}?dir={DIR}"], directory=cls.tmp)
        cls.host, trino_port = host_port.split(":")
        cls.trino_port = int(trino_port)
        try:
            # The demo loads its table through Trino before it serves.
            cls.server.start(timeout=240)
            # The etl service (lf-super-user-role) makes a table the other roles may not see.
            cls.sql("etl-service", "CREATE TABLE IF NOT EXISTS lake.analytics.payroll "
                                   "(member_id bigint, salary double)")
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def connect(cls, client):
        token = cls.server.access_token(client)
        user = cls.server.secret(client)["client_id"]
        return trino.dbapi.connect(host=cls.host, port=cls.trino_port, user=user,
                                   http_scheme="https", verify=CA, auth=JWTAuthentication(token),
                                   catalog="lake", schema="analytics")

    @classmethod
    def sql(cls, client, statement):
        conn = cls.connect(client)
        try:
            cur = conn.cursor()
            cur.execute(statement)
            rows = cur.fetchall()
            return [d[0] for d in cur.description or []], rows
        finally:
            conn.close()

    def assertDenied(self, client, statement):
        with self.assertRaises(trino.exceptions.TrinoUserError) as cm:
            self.sql(client, statement)
        self.assertIn("Access Denied", str(cm.exception))

    def test_dev_role_sees_no_email(self):
        columns, rows = self.sql("reporting-service", "SELECT * FROM members ORDER BY member_id")
        self.assertEqual(columns, ["member_id", "name", "region", "tier", "joined_on",
                                   "lifetime_value"])
        self.assertEqual(len(rows), 1000)
        self.assertDenied("reporting-service", "SELECT email FROM members")
        self.assertDenied("reporting-service", "SELECT count(*) FROM members WHERE email LIKE 'a%'")
        columns, _ = self.sql("reporting-service",
                              "SELECT column_name FROM information_schema.columns "
                              "WHERE table_name = 'members'")
        _, names = self.sql("reporting-service",
                            "SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = 'members'")
        self.assertNotIn(["email"], [list(r) for r in names])

    def test_analyst_sees_names_of_eu_rows_masked(self):
        _, rows = self.sql("analytics-service",
                           "SELECT region, name, lifetime_value FROM members")
        self.assertEqual(len(rows), 1000)
        named = [r for r in rows if r[1] is not None]
        self.assertTrue(named)
        for region, name, value in rows:
            if region in ("eu-west", "eu-central"):
                self.assertIsNotNone(name)
                self.assertTrue(name[:-3] == "x" * (len(name) - 3), name)
                self.assertIsNotNone(value)
            else:
                self.assertIsNone(name)
                self.assertIsNone(value)
        # A predicate on the name sees the masked value, never the raw one.
        _, rows = self.sql("analytics-service",
                           "SELECT count(*) FROM members WHERE name LIKE 'Jon%'")
        self.assertEqual(rows, [[0]])
        self.assertDenied("analytics-service", "SELECT email FROM members")

    def test_hidden_tables_are_invisible(self):
        _, etl_tables = self.sql("etl-service", "SHOW TABLES FROM lake.analytics")
        self.assertIn(["payroll"], etl_tables)
        for client in ("reporting-service", "analytics-service"):
            _, tables = self.sql(client, "SHOW TABLES FROM lake.analytics")
            self.assertEqual(tables, [["members"]], client)
            _, listed = self.sql(client, "SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'analytics'")
            self.assertEqual(listed, [["members"]], client)
            with self.assertRaises(trino.exceptions.TrinoUserError):
                self.sql(client, "SELECT * FROM lake.analytics.payroll")
        _, catalogs = self.sql("reporting-service", "SHOW CATALOGS")
        self.assertNotIn(["tpch"], catalogs)

    def test_read_scope_token_cannot_insert(self):
        self.assertDenied("reporting-service",
                          "INSERT INTO members (member_id, name) VALUES (5001, 'x')")
        self.assertDenied("reporting-service", "DELETE FROM members WHERE member_id = 1")
        self.assertDenied("reporting-service", "CREATE TABLE t_dev (a bigint)")
        self.assertDenied("reporting-service", "DROP TABLE payroll")
        _, rows = self.sql("reporting-service", "SELECT count(*) FROM members")
        self.assertEqual(rows, [[1000]])

    def test_impersonation_is_denied(self):
        token = self.server.access_token("reporting-service")
        etl = self.server.secret("etl-service")["client_id"]
        conn = trino.dbapi.connect(host=self.host, port=self.trino_port, user=etl,
                                   http_scheme="https", verify=CA, auth=JWTAuthentication(token),
                                   catalog="lake", schema="analytics")
        with self.assertRaises(Exception) as cm:
            cur = conn.cursor()
            cur.execute("SELECT email FROM members LIMIT 1")
            cur.fetchall()
        self.assertIn("impersonate", str(cm.exception).lower())

    def test_tokens_not_signed_by_lakegate_are_refused(self):
        ctx = ssl.create_default_context(cafile=CA)
        def status(headers, url=None):
            req = urllib.request.Request((url or self.trino_url) + "/v1/statement",
                                         data=b"SELECT 1", method="POST",
                                         headers={"X-Trino-User": "x", **headers})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        self.assertEqual(status({}), 401)
        self.assertEqual(status({"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}), 401)
        # Plain HTTP authenticates nothing, so Trino refuses it for clients.
        plain = "http://127.0.0.1:" + read("port")
        self.assertEqual(status({}, plain), 403)
        self.assertEqual(status({"Authorization": "Bearer " +
                                 self.server.access_token("etl-service")}, plain), 403)

    def query_api(self, client, sql):
        token = self.server.access_token(client)
        status, body, _ = request(self.server.url + "/v1/query", "POST",
                                  json.dumps({"query": sql}).encode(),
                                  {"Authorization": "Bearer " + token,
                                   "Content-Type": "application/json"}, timeout=120)
        return status, json.loads(body)

    def test_query_api_on_the_trino_engine(self):
        status, body = self.query_api("etl-service", "SELECT count(*) AS n FROM members")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"], [{"n": 1000}])
        status, body = self.query_api("reporting-service",
                                      "SELECT * FROM members ORDER BY member_id LIMIT 2")
        self.assertEqual(status, 200, body)
        self.assertEqual([c["name"] for c in body["columns"]],
                         ["member_id", "name", "region", "tier", "joined_on", "lifetime_value"])
        self.assertEqual(body["columns"][0]["type"], "INTEGER")
        self.assertEqual(body["rowCount"], 2)
        # A hidden column or table reads like a missing one, as on every engine.
        status, body = self.query_api("reporting-service", "SELECT email FROM members")
        self.assertEqual((status, body["error"]["message"]), (400, "no such column: email"), body)
        status, body = self.query_api("reporting-service", "SELECT * FROM payroll")
        self.assertEqual(status, 400, body)
        self.assertNotIn("payroll", json.dumps(body))
        status, missing = self.query_api("reporting-service", "SELECT member_id FROM no_such_table")
        self.assertEqual((status, missing["error"]), (400, body["error"]), missing)
        status, body = self.query_api(
            "analytics-service",
            "SELECT name FROM members WHERE region = 'eu-central' ORDER BY member_id LIMIT 1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"], [{"name": "xxxxxxxxsen"}])
        status, body = self.query_api("reporting-service",
                                      "INSERT INTO members (member_id) VALUES (5002)")
        self.assertEqual(status, 403, body)
        status, body = self.query_api("reporting-service", "SELEC 1")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["code"], "invalid_query")
        status, body = self.query_api("reporting-service",
                                      "SELECT member_id FROM members ORDER BY member_id")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["rowCount"], 1000)

    def decisions(self, computed=False):
        """Decision requests lakegate answered so far (its /metrics); with
        computed=True, those it did not answer from its cache."""
        status, text, _ = request(self.server.url + "/metrics")
        self.assertEqual(status, 200)
        total = 0
        for line in text.decode().splitlines():
            if computed:
                counted = (line.startswith("lakegate_trino_decisions_total{")
                           and 'answer="computed"' in line)
            else:
                counted = (line.startswith("lakegate_http_requests_total")
                           and 'route="/trino/opa/' in line)
            if counted:
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def test_decisions_per_query(self):
        # ExecuteQuery, the mask batch, the row filters and one AccessCatalog +
        # SelectFromColumns pair; the analyst's two masked columns add a pair
        # each (Trino asks for a masked column before it analyzes its mask).
        # Its masks test and read only columns it may read, so they carry no
        # identity of their own, which would cost one more pair.
        for client, expected in (("etl-service", 5), ("analytics-service", 9)):
            self.sql(client, "SELECT count(*) FROM members")  # answers cached, columns known
            before = self.decisions()
            self.sql(client, "SELECT count(*) FROM members")
            self.assertEqual(self.decisions() - before, expected, client)

    def test_a_repeated_query_is_answered_from_the_cache(self):
        # A SELECT * asks FilterColumns (the table's columns) and the mask
        # batch (those and Trino's hidden $path, $file_size, ...): the two
        # listings of one table must not start the cache over.
        sql = "SELECT * FROM members WHERE member_id = 7"
        self.sql("analytics-service", sql)
        asked, computed = self.decisions(), self.decisions(computed=True)
        self.sql("analytics-service", sql)
        self.assertEqual(self.decisions() - asked, 12)
        self.assertEqual(self.decisions(computed=True) - computed, 0)

    def test_decisions_need_the_cluster_key(self):
        body = json.dumps({"input": {"context": {"identity": {"user": "x"}},
                                     "action": {"operation": "ExecuteQuery"}}}).encode()
        for query in ("", "?key=", "?key=wrong"):
            status, _, _ = request(self.server.url + "/trino/opa/allow" + query, "POST", body,
                                   {"Content-Type": "application/json"})
            self.assertEqual(status, 401, query)
        status, answer, _ = request(
            self.server.url + "/trino/opa/allow?key=" + read("opa-secret"), "POST", body,
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(answer), {"result": False})


if __name__ == "__main__":
    unittest.main()
