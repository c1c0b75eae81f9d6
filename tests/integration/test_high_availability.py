"""Many lakegate nodes on one PostgreSQL state store: what one node does,
every node sees within a second; a node that dies costs the others nothing;
a PostgreSQL outage costs reads nothing and writes a clear 503.

Every test starts its own PostgreSQL (scripts/postgres.sh: a throwaway
cluster owned by an unprivileged user on a random loopback port) and two or
three `lakegate demo --state` nodes on ephemeral ports, and stops them all."""
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Server, basic, post_form, request, run_cli
from test_query_api import run_query

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTGRES = os.path.join(ROOT, "scripts", "postgres.sh")
PSQL = "/usr/lib/postgresql/15/bin/psql"


def wait_for(predicate, timeout=1.0, step=0.01):
    """Polls `predicate` until it is truthy or `timeout` passes; returns the
    last value and the seconds it took."""
    start = time.time()
    while True:
        value = predicate()
        elapsed = time.time() - start
        if value or elapsed > timeout:
            return value, elapsed
        time.sleep(step)


class PostgreSQL:
    """A private PostgreSQL server (scripts/postgres.sh) for one test class."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="lakegate-ha-pg-")
        os.chmod(self.tmp, 0o711)  # the server runs as the unprivileged postgres user
        self.dir = os.path.join(self.tmp, "pg")
        out = subprocess.run(["bash", POSTGRES, "start", self.dir], capture_output=True,
                             text=True, timeout=120)
        if out.returncode != 0:
            self.stop()
            raise AssertionError("PostgreSQL did not start:\n" + out.stdout + out.stderr)
        with open(os.path.join(self.dir, "url")) as f:
            self.url = f.read().strip()
        self.databases = 0

    def new_database(self):
        """A fresh, empty database on this server; returns its URL."""
        self.databases += 1
        name = "ha_%d_%d" % (os.getpid(), self.databases)
        base, query = self.url.split("?", 1) if "?" in self.url else (self.url, "")
        server = base.rsplit("/", 1)[0]
        suffix = ("?" + query) if query else ""
        subprocess.run([PSQL, server + "/postgres" + suffix, "-q", "-v", "ON_ERROR_STOP=1",
                        "-c", "CREATE DATABASE " + name],
                       check=True, capture_output=True, timeout=30)
        return server + "/" + name + suffix

    def down(self):
        """Stops the server, keeping its data and port (an outage)."""
        subprocess.run(["bash", POSTGRES, "halt", self.dir], check=True, capture_output=True,
                       timeout=120)

    def up(self):
        subprocess.run(["bash", POSTGRES, "start", self.dir], check=True, capture_output=True,
                       timeout=120)

    def stop(self):
        subprocess.run(["bash", POSTGRES, "stop", self.dir], capture_output=True, timeout=120)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Cluster:
    """Demo nodes sharing one stack directory and one state store."""

    def __init__(self, state_url, names=("a", "b")):
        self.dir = tempfile.mkdtemp(prefix="lakegate-ha-")
        self.state_url = state_url
        self.nodes = {}
        for name in names:
            self.start(name)

    def start(self, name):
        node = Server(["demo", "--dir", self.dir, "--port", "0", "--state", self.state_url,
                       "--node", name], directory=self.dir).start()
        self.nodes[name] = node
        return node

    def __getitem__(self, name):
        return self.nodes[name]

    @property
    def stack_file(self):
        return os.path.join(self.dir, "stack.yaml")

    def secret(self, client):
        with open(os.path.join(self.dir, "secrets", client + ".json")) as f:
            return json.load(f)

    def cli(self, *args, check=True):
        return run_cli(*args, "--config", self.stack_file, check=check)

    def close(self):
        for node in self.nodes.values():
            node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class TwoNodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgreSQL()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        self.cluster = Cluster(self.pg.new_database())
        self.addCleanup(self.cluster.close)
        self.a, self.b = self.cluster["a"], self.cluster["b"]

    def test_nodes_share_keys_tokens_and_issuer(self):
        ja = request(self.a.url + "/.well-known/jwks.json")[1]
        jb = request(self.b.url + "/.well-known/jwks.json")[1]
        self.assertEqual(json.loads(ja), json.loads(jb))
        for issuing, serving in ((self.a, self.b), (self.b, self.a)):
            token = issuing.access_token("reporting-service")
            status, body, _ = run_query(serving, token, "SELECT count(*) AS n FROM members")
            self.assertEqual((status, body.get("data")), (200, [{"n": 1000}]), body)
        # Same clients: a secret works on either node; the stack file records
        # the store.
        with open(self.cluster.stack_file) as f:
            self.assertIn(self.cluster.state_url, f.read())
        # The URL holds the database password.
        self.assertEqual(os.stat(self.cluster.stack_file).st_mode & 0o777, 0o600)
        # Both nodes name the same issuer (the first node's URL) in metadata and tokens.
        issuers = {json.loads(request(n.url + "/.well-known/oauth-authorization-server")[1])
                   ["issuer"] for n in (self.a, self.b)}
        self.assertEqual(len(issuers), 1)

    def test_revocation_on_one_node_reaches_the_other_within_a_second(self):
        token = self.a.access_token("reporting-service")
        self.assertEqual(run_query(self.b, token, "SELECT 1")[0], 200)
        creds = self.cluster.secret("reporting-service")
        status, _, _ = post_form(self.a.url + "/oauth2/revoke", {"token": token},
                                 {"Authorization": basic(creds["client_id"],
                                                         creds["client_secret"])})
        self.assertEqual(status, 200)
        rejected, took = wait_for(lambda: run_query(self.b, token, "SELECT 1")[0] == 401)
        self.assertTrue(rejected, "node b still accepts the revoked token after %.2f s" % took)

    def test_a_disabled_client_is_cut_off_on_both_nodes(self):
        tokens = {n: self.cluster[n].access_token("monitoring-service") for n in ("a", "b")}
        self.cluster.cli("client", "disable", "monitoring-service")
        for name in ("a", "b"):
            for token in tokens.values():
                rejected, took = wait_for(
                    lambda: run_query(self.cluster[name], token, "SELECT 1")[0] == 401)
                self.assertTrue(rejected, "node %s after %.2f s" % (name, took))
        self.cluster.cli("client", "enable", "monitoring-service")

    def test_key_rotation_is_followed_by_both_nodes(self):
        before = json.loads(request(self.a.url + "/.well-known/jwks.json")[1])
        self.cluster.cli("key", "rotate")

        def rotated():
            ja = json.loads(request(self.a.url + "/.well-known/jwks.json")[1])
            jb = json.loads(request(self.b.url + "/.well-known/jwks.json")[1])
            return ja == jb and len(ja["keys"]) == len(before["keys"]) + 1
        ok, took = wait_for(rotated)
        self.assertTrue(ok, "JWKS did not follow the rotation within %.2f s" % took)
        # One rotation, one new key: every node signs with it.
        kids = set()
        for issuing, serving in ((self.a, self.b), (self.b, self.a)):
            token = issuing.access_token("etl-service")
            kids.add(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"])
            self.assertEqual(run_query(serving, token, "SELECT 1")[0], 200)
        self.assertEqual(len(kids), 1)
        self.assertNotIn(kids.pop(), {k["kid"] for k in before["keys"]})

    def test_a_grant_reaches_both_nodes_queries_within_a_second(self):
        token = self.a.access_token("reporting-service")
        for node in (self.a, self.b):
            self.assertEqual(run_query(node, token, "SELECT email FROM members LIMIT 1")[0], 400)
        self.cluster.cli("grant", "lf-dev-role", "SELECT", "--on", "analytics.members",
                         "--columns", "email")
        for node in (self.a, self.b):
            ok, took = wait_for(
                lambda: run_query(node, token, "SELECT email FROM members LIMIT 1")[0] == 200)
            self.assertTrue(ok, "%s after %.2f s" % (node.url, took))
        self.cluster.cli("revoke", "lf-dev-role", "SELECT", "--on", "analytics.members",
                         "--columns", "email")
        for node in (self.a, self.b):
            ok, _ = wait_for(
                lambda: run_query(node, token, "SELECT email FROM members LIMIT 1")[0] == 400)
            self.assertTrue(ok)

    def test_killing_a_node_under_load_costs_the_other_nothing(self):
        token = self.b.access_token("reporting-service")
        errors, answered, stop = [], [0], threading.Event()

        def load():
            while not stop.is_set():
                status, body, _ = run_query(self.b, token, "SELECT count(*) AS n FROM members")
                if status != 200:
                    errors.append((status, body))
                answered[0] += 1
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.a.proc.send_signal(signal.SIGKILL)
        self.a.proc.wait(10)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(10)
        self.assertEqual(errors, [])
        self.assertGreater(answered[0], 20)
        # Node b still issues tokens and serves.
        self.assertEqual(run_query(self.b, self.b.access_token("etl-service"), "SELECT 1")[0], 200)


class OutageTest(unittest.TestCase):
    """PostgreSQL goes away and comes back under two running nodes."""

    def setUp(self):
        self.pg = PostgreSQL()
        self.addCleanup(self.pg.stop)
        self.cluster = Cluster(self.pg.new_database())
        self.addCleanup(self.cluster.close)
        self.a, self.b = self.cluster["a"], self.cluster["b"]

    def test_reads_survive_writes_fail_clearly_and_nodes_catch_up(self):
        token = self.a.access_token("reporting-service")
        self.pg.down()
        try:
            for node in (self.a, self.b):
                # Tokens and queries from the last snapshot; readiness says degraded.
                self.assertEqual(node.token("etl-service")[0], 200)
                self.assertEqual(run_query(node, token, "SELECT 1")[0], 200)
                ok, _ = wait_for(lambda: json.loads(request(node.url + "/readyz")[1])
                                 .get("status") == "degraded", timeout=5)
                self.assertTrue(ok)
            # Writes fail with 503 and say why.
            creds = self.cluster.secret("reporting-service")
            status, body, headers = post_form(self.a.url + "/oauth2/revoke", {"token": token},
                                              {"Authorization": basic(creds["client_id"],
                                                                      creds["client_secret"])})
            self.assertEqual(status, 503, body)
            self.assertIn("retry", body["error_description"])
            admin = self.a.access_token("etl-service")
            status, data, _ = request(
                self.a.url + "/v1/admin/grant", "POST",
                json.dumps({"role": "lf-dev-role", "database": "analytics", "table": "members",
                            "permissions": ["SELECT"], "columns": {"include": ["email"]}}).encode(),
                {"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
            self.assertEqual(status, 503, data)
            self.assertIn("state store", json.loads(data)["error"]["message"])
            r = self.cluster.cli("client", "disable", "monitoring-service", check=False)
            self.assertNotEqual(r.returncode, 0)
        finally:
            self.pg.up()
        # Both nodes reconnect and see changes made after the outage, without
        # a restart.
        for node in (self.a, self.b):
            ok, _ = wait_for(lambda: json.loads(request(node.url + "/readyz")[1])
                             .get("status") == "ready", timeout=10)
            self.assertTrue(ok, node.url)
        token = self.a.access_token("monitoring-service")
        self.cluster.cli("client", "disable", "monitoring-service")
        for node in (self.a, self.b):
            ok, took = wait_for(lambda: run_query(node, token, "SELECT 1")[0] == 401)
            self.assertTrue(ok, "%s after %.2f s" % (node.url, took))


class SimultaneousStartTest(unittest.TestCase):
    def test_two_nodes_started_at_once_on_an_empty_database(self):
        pg = PostgreSQL()
        self.addCleanup(pg.stop)
        url = pg.new_database()
        d = tempfile.mkdtemp(prefix="lakegate-ha-")
        self.addCleanup(shutil.rmtree, d, True)
        # The stack directory exists (as a shared volume would), the database is empty.
        first = Server(["demo", "--dir", d, "--port", "0", "--state", url, "--node", "a"],
                       directory=d).start()
        first.stop()
        pg_empty = pg.new_database()
        nodes = [Server(["serve", "--config", os.path.join(d, "stack.yaml"), "--port", "0",
                         "--state", pg_empty, "--node", n], directory=d) for n in ("x", "y")]
        started = []
        threads = [threading.Thread(target=lambda n=n: started.append(n.start())) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        try:
            self.assertEqual(len(started), 2)
            jwks = [json.loads(request(n.url + "/.well-known/jwks.json")[1]) for n in nodes]
            self.assertEqual(jwks[0], jwks[1])
            self.assertEqual(len(jwks[0]["keys"]), 1)  # one first key, not one per node
        finally:
            for n in nodes:
                n.stop()


if __name__ == "__main__":
    unittest.main()
