"""Native asynchronous queries (/v1/queries) against the real binary.

Every state (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED), cancel while a
query runs, paging with nextToken, page tokens that cannot be forged or used
by another client, other clients' executions reading as 404, results kept
across a restart (running ones become FAILED), expiry after the retention,
the asynchronous timeout, and `lakegate query --async`.
"""
import json
import os
import re
import time
import unittest

from harness import Server, request, run_cli

# Runs until the asynchronous timeout (or a cancel): an endless recursive CTE
# whose outer aggregate never gets a row to return.
ENDLESS = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
           "SELECT max(n) FROM r")


def set_query_options(stack_file, **options):
    """Adds `key: value` lines to the stack file's query: section."""
    with open(stack_file) as f:
        text = f.read()
    lines = "".join(f"  {k}: {v}\n" for k, v in options.items())
    text = text.replace("query:\n", "query:\n" + lines, 1)
    with open(stack_file, "w") as f:
        f.write(text)


class Api:
    def __init__(self, server, client="etl-service"):
        self.server = server
        self.token = server.access_token(client)

    def call(self, method, path, body=None, token=None):
        headers = {"Authorization": "Bearer " + (token or self.token)}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        status, text, _ = request(self.server.url + path, method=method, body=data,
                                  headers=headers)
        return status, json.loads(text) if text else None

    def submit(self, query, **extra):
        status, body = self.call("POST", "/v1/queries", {"query": query, **extra})
        assert status == 202, (status, body)
        assert body["state"] in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED"), body
        return body["queryId"]

    def wait(self, query_id, states=("SUCCEEDED", "FAILED", "CANCELLED"), timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, body = self.call("GET", "/v1/queries/" + query_id)
            assert status == 200, (status, body)
            if body["state"] in states:
                return body
            time.sleep(0.05)
        raise AssertionError(f"{query_id} did not reach {states}: {body}")

    def results(self, query_id, max_results=None, next_token=None, token=None):
        params = []
        if max_results is not None:
            params.append(f"maxResults={max_results}")
        if next_token is not None:
            params.append("nextToken=" + next_token)
        path = f"/v1/queries/{query_id}/results" + ("?" + "&".join(params) if params else "")
        return self.call("GET", path, token=token)


class AsyncQueriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.etl = Api(cls.server)
        cls.reporting = Api(cls.server, "reporting-service")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_succeeded_with_timings_and_typed_rows(self):
        qid = self.etl.submit("SELECT member_id, name, lifetime_value FROM members "
                              "WHERE member_id <= 3 ORDER BY member_id")
        self.assertRegex(qid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        info = self.etl.wait(qid)
        self.assertEqual(info["state"], "SUCCEEDED")
        self.assertEqual(info["rowCount"], 3)
        self.assertGreater(info["bytes"], 0)
        self.assertEqual(info["statementType"], "SELECT")
        for key in ("submittedAt", "startedAt", "completedAt"):
            self.assertRegex(info[key], r"^\d{4}-\d\d-\d\dT")
        self.assertGreaterEqual(info["totalMillis"], info["executionMillis"])
        status, page = self.etl.results(qid)
        self.assertEqual(status, 200, page)
        self.assertEqual([r["member_id"] for r in page["data"]], [1, 2, 3])
        self.assertIsInstance(page["data"][0]["lifetime_value"], float)
        self.assertIsNone(page["nextToken"])

    def test_paging_walks_every_row_once(self):
        qid = self.etl.submit("SELECT member_id FROM members ORDER BY member_id")
        self.etl.wait(qid)
        seen, token, pages = [], None, 0
        while True:
            status, page = self.etl.results(qid, max_results=300, next_token=token)
            self.assertEqual(status, 200, page)
            self.assertLessEqual(len(page["data"]), 300)
            seen += [r["member_id"] for r in page["data"]]
            pages += 1
            token = page["nextToken"]
            if token is None:
                break
        self.assertEqual(pages, 4)
        self.assertEqual(seen, list(range(1, 1001)))

    def test_page_tokens_cannot_be_forged_or_shared(self):
        qid = self.etl.submit("SELECT member_id FROM members")
        self.etl.wait(qid)
        _, page = self.etl.results(qid, max_results=10)
        token = page["nextToken"]
        payload, mac = token.split(".")
        import base64
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        forged_payload = raw.rsplit(".", 2)[0] + ".500.0"
        forged = base64.urlsafe_b64encode(forged_payload.encode()).decode().rstrip("=") + "." + mac
        status, body = self.etl.results(qid, max_results=10, next_token=forged)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["code"], "invalid_request")
        # Another client (without the admin scope) does not see the execution at all.
        status, body = self.reporting.results(qid, max_results=10, next_token=token)
        self.assertEqual(status, 404, body)

    def test_other_client_gets_404_not_403(self):
        qid = self.etl.submit("SELECT 1")
        self.etl.wait(qid)
        for method, path in (("GET", f"/v1/queries/{qid}"), ("GET", f"/v1/queries/{qid}/results"),
                             ("DELETE", f"/v1/queries/{qid}")):
            status, body = self.reporting.call(method, path)
            self.assertEqual(status, 404, (method, path, body))
            self.assertEqual(body["error"]["code"], "not_found")
        status, body = self.etl.call("GET", "/v1/queries/00000000-0000-4000-8000-000000000000")
        self.assertEqual(status, 404, body)

    def test_admin_scope_sees_other_clients_executions(self):
        qid = self.reporting.submit("SELECT 1 AS one")
        self.reporting.wait(qid)
        status, body = self.etl.call("GET", f"/v1/queries/{qid}")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"], "SUCCEEDED")

    def test_failed_has_a_reason(self):
        qid = self.etl.submit("SELECT no_such_column FROM members")
        info = self.etl.wait(qid)
        self.assertEqual(info["state"], "FAILED")
        self.assertEqual(info["error"]["code"], "invalid_query")
        self.assertIn("no_such_column", info["stateChangeReason"])
        status, body = self.etl.results(qid)
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "query_failed")

    def test_governance_is_the_roles(self):
        qid = self.reporting.submit("SELECT email FROM members")
        info = self.reporting.wait(qid)
        self.assertEqual(info["state"], "FAILED")
        qid = self.reporting.submit("SELECT * FROM members LIMIT 1")
        self.reporting.wait(qid)
        _, page = self.reporting.results(qid)
        self.assertNotIn("email", page["data"][0])
        self.assertIn("name", page["data"][0])

    def test_cancel_while_running_and_while_queued(self):
        # monitoring-service has 4 slots: four endless queries take them, the
        # fifth waits QUEUED.
        api = Api(self.server, "monitoring-service")
        running = [api.submit(ENDLESS) for _ in range(4)]
        for qid in running:
            api.wait(qid, states=("RUNNING",))
        queued = api.submit(ENDLESS)
        time.sleep(0.2)
        status, body = api.call("GET", "/v1/queries/" + queued)
        self.assertEqual(body["state"], "QUEUED", body)
        status, body = api.call("GET", f"/v1/queries/{queued}/results")
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "query_not_finished")
        status, body = api.call("DELETE", "/v1/queries/" + queued)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"], "CANCELLED")
        for qid in running:
            status, body = api.call("DELETE", "/v1/queries/" + qid)
            self.assertEqual(status, 200, body)
        for qid in running:
            info = api.wait(qid, timeout=10)
            self.assertEqual(info["state"], "CANCELLED", info)
            self.assertEqual(info["stateChangeReason"], "cancelled while running")
        # The slots are free again.
        qid = api.submit("SELECT 1")
        self.assertEqual(api.wait(qid)["state"], "SUCCEEDED")

    def test_bad_requests(self):
        status, body = self.etl.call("POST", "/v1/queries", {"sql": "SELECT 1"})
        self.assertEqual(status, 400, body)
        qid = self.etl.submit("SELECT 1")
        self.etl.wait(qid)
        status, body = self.etl.results(qid, max_results=0)
        self.assertEqual(status, 400, body)
        status, body = self.etl.results(qid, max_results=1001)
        self.assertEqual(status, 400, body)
        status, body = self.etl.call("GET", "/v1/queries/" + qid, token="not-a-token")
        self.assertEqual(status, 401, body)

    def test_cli_async(self):
        secrets = os.path.join(self.server.dir, "secrets", "etl-service.json")
        proc = run_cli("query", "--endpoint", self.server.url, "--secrets-file", secrets,
                       "--no-cache", "--async", "--format", "json",
                       "SELECT member_id FROM members ORDER BY member_id LIMIT 1500")
        rows = json.loads(proc.stdout)
        self.assertEqual(len(rows["data"]), 1000)
        self.assertRegex(proc.stderr, r"SUCCEEDED")


class AsyncLifecycleTest(unittest.TestCase):
    """Restart, timeout and expiry: servers of their own."""

    def test_results_survive_a_restart_and_running_ones_fail(self):
        server = Server().start()
        try:
            api = Api(server)
            done = api.submit("SELECT member_id FROM members ORDER BY member_id")
            api.wait(done)
            _, first = api.results(done, max_results=100)
            running = api.submit(ENDLESS)
            api.wait(running, states=("RUNNING",))
            server.stop()
            server.start()
            api = Api(server)
            info = api.wait(done)
            self.assertEqual(info["state"], "SUCCEEDED")
            # A token from before the restart still reads on.
            status, page = api.results(done, max_results=100, next_token=first["nextToken"])
            self.assertEqual(status, 200, page)
            self.assertEqual(page["data"][0]["member_id"], 101)
            info = api.wait(running)
            self.assertEqual(info["state"], "FAILED")
            self.assertIn("server stopped", info["stateChangeReason"])
            spool = os.path.join(server.dir, "state", "async-results")
            for name in os.listdir(spool):
                mode = os.stat(os.path.join(spool, name)).st_mode & 0o777
                self.assertEqual(mode, 0o600, name)
        finally:
            server.cleanup()

    def test_async_timeout_and_expiry(self):
        server = Server().start()
        try:
            server.stop()
            set_query_options(server.stack_file, async_timeout="2s", async_retention="3s")
            server.start()
            api = Api(server)
            started = time.time()
            qid = api.submit(ENDLESS)
            info = api.wait(qid, timeout=20)
            self.assertEqual(info["state"], "FAILED")
            self.assertEqual(info["error"]["code"], "query_timeout")
            self.assertGreaterEqual(time.time() - started, 1.5)
            ok = api.submit("SELECT 1")
            api.wait(ok)
            spool = os.path.join(server.dir, "state", "async-results")
            self.assertTrue(os.path.exists(os.path.join(spool, ok + ".rows")))
            deadline = time.time() + 15
            status = 200
            while time.time() < deadline and status != 404:
                status, _ = api.call("GET", "/v1/queries/" + ok)
                time.sleep(0.2)
            self.assertEqual(status, 404)
            self.assertFalse(os.path.exists(os.path.join(spool, ok + ".rows")))
            self.assertFalse(os.path.exists(os.path.join(spool, ok + ".json")))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
