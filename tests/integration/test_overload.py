"""Overload: ten times more connections than query workers, every one running
slow queries. The server must not collapse: /healthz and the token endpoint
keep answering quickly (they run on the network threads), accepted queries
wait for a worker a bounded time, and the excess is told to come back (503 or
429 with Retry-After) at once instead of piling up.

Bounded: one server, ~8 s of load, every request with a client timeout.
"""
import json
import os
import sqlite3
import tempfile
import threading
import time
import unittest

from harness import Server, basic, post_form, request

WORKERS = 4
CLIENTS = 10
CONNECTIONS = 10 * WORKERS
LOAD_SECONDS = 8
TIMEOUT_SECONDS = 1
RUNAWAY = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"


def stack_yaml():
    clients = "\n".join(f"  - name: svc-{i}\n    scopes: [athena-api/query.read]"
                        for i in range(CLIENTS))
    return f"""\
listen: {{port: 0}}
resource_servers:
  - identifier: athena-api
    name: Athena
    scopes: [query.read]
clients:
{clients}
query:
  timeout: {TIMEOUT_SECONDS}s
  workers: {WORKERS}
  max_backlog: {WORKERS}
  max_concurrent_per_client: 4
roles:
  - name: super
    grants: [{{database: "*", table: "*", permissions: [ALL]}}]
role_rules:
  scopes: [{{scope: athena-api/query.read, role: super}}]
"""


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class OverloadTest(unittest.TestCase):
    def test_ten_times_more_connections_than_workers_with_slow_queries(self):
        d = tempfile.mkdtemp(prefix="lakegate-overload-")
        path = os.path.join(d, "stack.yaml")
        with open(path, "w") as f:
            f.write(stack_yaml())
        os.makedirs(os.path.join(d, "lake"), exist_ok=True)
        with sqlite3.connect(os.path.join(d, "lake", "analytics.db")) as db:
            db.execute("CREATE TABLE t(x INTEGER)")
        with Server(["serve", "--config", path, "--port", "0"], directory=d) as server:
            tokens = [server.access_token(f"svc-{i}") for i in range(CLIENTS)]
            secrets = [server.secret(f"svc-{i}") for i in range(CLIENTS)]
            deadline = time.time() + LOAD_SECONDS
            lock = threading.Lock()
            queries = []  # (status, seconds, retry-after header or None)
            probes = {"healthz": [], "token": []}
            failures = []

            def load(n):
                body = json.dumps({"query": RUNAWAY}).encode()
                headers = {"Authorization": "Bearer " + tokens[n % CLIENTS],
                           "Content-Type": "application/json"}
                while time.time() < deadline:
                    started = time.time()
                    try:
                        status, _, h = request(server.url + "/v1/query", "POST", body, headers,
                                               timeout=30)
                    except OSError as e:  # a refused or reset connection is a collapse
                        with lock:
                            failures.append(repr(e))
                        return
                    with lock:
                        queries.append((status, time.time() - started, h.get("retry-after")))
                    if status in (429, 503):
                        time.sleep(0.2)  # a polite client backs off

            def probe():
                i = 0
                while time.time() < deadline:
                    started = time.time()
                    status = request(server.url + "/healthz", timeout=10)[0]
                    healthz = time.time() - started
                    creds = secrets[i % CLIENTS]
                    started = time.time()
                    token_status = post_form(
                        server.url + "/oauth2/token", {"grant_type": "client_credentials"},
                        {"Authorization": basic(creds["client_id"], creds["client_secret"])})[0]
                    token = time.time() - started
                    with lock:
                        probes["healthz"].append((status, healthz))
                        probes["token"].append((token_status, token))
                    i += 1
                    time.sleep(0.05)

            threads = [threading.Thread(target=load, args=(n,)) for n in range(CONNECTIONS)]
            threads.append(threading.Thread(target=probe))
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=LOAD_SECONDS + 60)
            self.assertFalse(any(t.is_alive() for t in threads), "a client hung")
            self.assertEqual(failures, [])

            statuses = [s for s, _, _ in queries]
            latencies = [secs for _, secs, _ in queries]
            counts = {s: statuses.count(s) for s in sorted(set(statuses))}
            summary = {
                "queries": counts,
                "query_p99_s": round(percentile(latencies, 0.99), 3),
                "query_max_s": round(max(latencies), 3),
                "healthz_p99_s": round(percentile([x for _, x in probes["healthz"]], 0.99), 4),
                "token_p99_s": round(percentile([x for _, x in probes["token"]], 0.99), 4),
                "probes": len(probes["healthz"]),
            }
            print("overload:", json.dumps(summary))

            # Slow queries ran (408 at their timeout); the excess was refused
            # with a Retry-After, never answered with anything else.
            self.assertLessEqual(set(statuses), {408, 429, 503}, summary)
            self.assertGreaterEqual(counts.get(408, 0), WORKERS, summary)
            self.assertGreater(counts.get(503, 0) + counts.get(429, 0), 0, summary)
            for status, _, retry_after in queries:
                if status in (429, 503):
                    self.assertIsNotNone(retry_after)
                    self.assertGreaterEqual(int(retry_after), 1)
            # An accepted query waits at most for the backlog ahead of it
            # (max_backlog / workers timeouts) plus its own timeout; without
            # the admission limit it waits CONNECTIONS / WORKERS timeouts.
            bound = TIMEOUT_SECONDS * (1 + 1) + 3
            self.assertLess(summary["query_max_s"], bound, summary)
            # Liveness and token issue run on the network threads: bounded
            # whatever the workers do (generous for a shared 2-core machine).
            self.assertTrue(all(s == 200 for s, _ in probes["healthz"]), probes["healthz"])
            self.assertTrue(all(s == 200 for s, _ in probes["token"]), probes["token"])
            self.assertGreaterEqual(summary["probes"], 10, summary)
            self.assertLess(summary["healthz_p99_s"], 1.0, summary)
            self.assertLess(summary["token_p99_s"], 1.0, summary)

            # Load gone, the server answers queries again at once.
            status, data, _ = request(server.url + "/v1/query", "POST",
                                      json.dumps({"query": "SELECT 1 AS x"}).encode(),
                                      {"Authorization": "Bearer " + tokens[0],
                                       "Content-Type": "application/json"})
            self.assertEqual(status, 200, data)


if __name__ == "__main__":
    unittest.main()
