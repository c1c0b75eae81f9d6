"""A node on the PostgreSQL state store (--state postgresql://...), with a
private PostgreSQL of its own (scripts/postgres.sh) so the test can take the
database away: reads keep working from the node's snapshot, writes (revocation,
the admin API, admin commands) fail with 503 + Retry-After / a clear error, and
everything works again once the database is back, without a restart. Also: a
second node with the wrong secret-hash key refuses to start; with the same keys
it accepts the first node's tokens.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import Server, basic, post_form, request, run_cli

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "postgres.sh")


def pg(command, directory):
    subprocess.run(["bash", SCRIPT, command, directory], check=True, capture_output=True,
                   text=True, timeout=120)


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class PostgresStateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lakegate-pgstate-")
        os.chmod(cls.tmp, 0o711)  # the server runs as the unprivileged postgres user
        cls.pg_dir = os.path.join(cls.tmp, "pg")
        try:
            pg("start", cls.pg_dir)
        except BaseException:
            pg("stop", cls.pg_dir)
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        with open(os.path.join(cls.pg_dir, "url")) as f:
            cls.url = f.read().strip()
        cls.password = cls.url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        cls.node_dir = os.path.join(cls.tmp, "a")
        cls.server = Server(["demo", "--dir", cls.node_dir, "--port", "0", "--state", cls.url],
                            directory=cls.node_dir)
        try:
            cls.server.start()
        except BaseException:
            pg("stop", cls.pg_dir)
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        pg("stop", cls.pg_dir)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def cli(self, *args, check=True):
        return run_cli(*args, "--config", self.server.stack_file, "--state", self.url,
                       check=check)

    def query(self, token):
        body = json.dumps({"query": "SELECT count(*) AS n FROM members"}).encode()
        return request(self.server.url + "/v1/query", "POST", body,
                       {"Authorization": "Bearer " + token, "Content-Type": "application/json"})

    def revoke(self, client, token):
        creds = self.server.secret(client)
        return post_form(self.server.url + "/oauth2/revoke", {"token": token},
                         {"Authorization": basic(creds["client_id"], creds["client_secret"])})

    def test_1_state_lives_in_postgres(self):
        out = self.cli("client", "list").stdout
        self.assertIn("reporting-service", out)
        self.assertNotIn(self.password, "".join(self.server.stderr_lines))
        self.assertIn("postgresql://lakegate:***@127.0.0.1", "".join(self.server.stderr_lines))

    def test_2_database_outage(self):
        token = self.server.access_token("reporting-service")
        victim = self.server.access_token("reporting-service")
        pg("halt", self.pg_dir)
        try:
            # Reads: tokens and queries from the snapshot.
            status, body, _ = self.server.token("reporting-service")
            self.assertEqual(status, 200, body)
            status, data, _ = self.query(token)
            self.assertEqual(status, 200, data)
            # Readiness says degraded (still 200: keep the node in the pool).
            def degraded():
                status, data, _ = request(self.server.url + "/readyz")
                return status == 200 and json.loads(data)["status"] == "degraded"
            self.assertTrue(wait_for(degraded, 10), "readiness never said degraded")

            # Writes fail fast with 503 + Retry-After.
            start = time.time()
            status, body, headers = self.revoke("reporting-service", victim)
            self.assertLess(time.time() - start, 6)
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"], "temporarily_unavailable")
            self.assertIn("retry-after", headers)

            admin_token = self.server.access_token("etl-service")
            grant = {"role": "lf-dev-role", "database": "analytics", "permissions": ["DESCRIBE"]}
            status, data, headers = request(
                self.server.url + "/v1/admin/grant", "POST", json.dumps(grant).encode(),
                {"Authorization": "Bearer " + admin_token, "Content-Type": "application/json"})
            self.assertEqual(status, 503, data)
            self.assertIn("retry-after", headers)
            self.assertIn("state store is unreachable", json.loads(data)["error"]["message"])

            # Admin commands: a clear error, no password.
            start = time.time()
            out = self.cli("client", "disable", "monitoring-service", check=False)
            self.assertLess(time.time() - start, 10)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("is unreachable", out.stderr)
            self.assertNotIn(self.password, out.stderr)
        finally:
            pg("start", self.pg_dir)

        # Back: the same node writes again and says ready, without a restart.
        def ready():
            status, data, _ = request(self.server.url + "/readyz")
            return status == 200 and json.loads(data)["status"] == "ready"
        self.assertTrue(wait_for(ready, 15), "readiness never recovered")
        self.assertTrue(wait_for(lambda: self.revoke("reporting-service", victim)[0] == 200, 10))
        status, _, _ = self.query(victim)
        self.assertEqual(status, 401, "the revoked token still works")
        status, _, _ = self.query(token)
        self.assertEqual(status, 200)
        self.cli("client", "list")

    def test_3_second_node_needs_the_same_keys(self):
        node_b = os.path.join(self.tmp, "b")
        os.makedirs(os.path.join(node_b, "state"), mode=0o700, exist_ok=True)
        shutil.copy(self.server.stack_file, os.path.join(node_b, "stack.yaml"))
        shutil.copytree(os.path.join(self.node_dir, "lake"), os.path.join(node_b, "lake"))
        shutil.copytree(os.path.join(self.node_dir, "secrets"), os.path.join(node_b, "secrets"))
        args = ["serve", "--config", os.path.join(node_b, "stack.yaml"), "--port", "0",
                "--state", self.url]

        # No key file: refused, nothing created.
        out = run_cli(*args, check=False, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("already has a secret-hash key", out.stderr)
        self.assertFalse(os.path.exists(os.path.join(node_b, "state", "hash.key")))

        # Another key: refused.
        with open(os.path.join(node_b, "state", "hash.key"), "w") as f:
            f.write("A" * 43 + "\n")
        os.chmod(os.path.join(node_b, "state", "hash.key"), 0o600)
        out = run_cli(*args, check=False, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("is not the one this state store was set up with", out.stderr)

        # The same keys: it starts and serves the same signing keys as node A.
        for key in ("hash.key", "mask.key"):
            shutil.copy(os.path.join(self.node_dir, "state", key),
                        os.path.join(node_b, "state", key))
        with Server(args, directory=node_b) as b:
            _, jwks_a, _ = request(self.server.url + "/.well-known/jwks.json")
            _, jwks_b, _ = request(b.url + "/.well-known/jwks.json")
            self.assertEqual(json.loads(jwks_a), json.loads(jwks_b))
            status, body, _ = post_form(b.url + "/oauth2/token",
                                        {"grant_type": "client_credentials"},
                                        {"Authorization": basic(
                                            self.server.secret("reporting-service")["client_id"],
                                            self.server.secret("reporting-service")[
                                                "client_secret"])})
            self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
