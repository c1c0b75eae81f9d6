"""AWS access keys (SigV4): `lakegate client access-key create|list|delete`
and the demo's DIR/secrets/<client>-aws.json files, against the real binary."""
import json
import os
import re
import stat
import unittest

from harness import Server, run_cli

DEMO_CLIENTS = ["etl-service", "reporting-service", "monitoring-service",
                "analytics-service", "keyjwt-service"]
KEY_ID = re.compile(r"^LGAK[A-Z2-7]{16}$")
SECRET = re.compile(r"^[A-Za-z0-9_-]{40}$")


def aws_file(server, client):
    return os.path.join(server.dir, "secrets", client + "-aws.json")


def read_aws(server, client):
    with open(aws_file(server, client)) as f:
        return json.load(f)


def printed(stdout, label):
    m = re.search(r"^" + label + r":\s+(\S+)$", stdout, re.M)
    assert m, f"no {label} in:\n{stdout}"
    return m.group(1)


class DemoAccessKeysTest(unittest.TestCase):
    def test_demo_writes_one_stable_key_file_per_client(self):
        server = Server()
        try:
            server.start()
            first = {}
            for client in DEMO_CLIENTS:
                path = aws_file(server, client)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
                keys = read_aws(server, client)
                self.assertEqual(sorted(keys), ["aws_access_key_id", "aws_secret_access_key"])
                self.assertRegex(keys["aws_access_key_id"], KEY_ID)
                self.assertRegex(keys["aws_secret_access_key"], SECRET)
                first[client] = keys
            self.assertEqual(len({k["aws_access_key_id"] for k in first.values()}),
                             len(DEMO_CLIENTS))
            listed = server.cli("client", "access-key", "list").stdout
            for client, keys in first.items():
                self.assertRegex(listed, keys["aws_access_key_id"] + r"\s+" + client)
            # The store keeps no secret in the clear (database and write-ahead log).
            state = os.path.join(server.dir, "state")
            db = b""
            for name in os.listdir(state):
                if name.startswith("state.db"):
                    with open(os.path.join(state, name), "rb") as f:
                        db += f.read()
            self.assertIn(first["etl-service"]["aws_access_key_id"].encode(), db)
            for keys in first.values():
                self.assertNotIn(keys["aws_secret_access_key"].encode(), db)
            server.stop()
            # A restart keeps every key and file as it was.
            server.start()
            for client in DEMO_CLIENTS:
                self.assertEqual(read_aws(server, client), first[client])
            listed = server.cli("client", "access-key", "list").stdout
            self.assertEqual(listed.count("LGAK"), len(DEMO_CLIENTS))
        finally:
            server.cleanup()


class AccessKeyCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_create_list_delete_and_the_per_client_maximum(self):
        s = self.server
        demo_key = read_aws(s, "monitoring-service")["aws_access_key_id"]
        out = s.cli("client", "access-key", "create", "monitoring-service").stdout
        key_id = printed(out, "AccessKeyId")
        secret = printed(out, "SecretAccessKey")
        self.assertRegex(key_id, KEY_ID)
        self.assertRegex(secret, SECRET)
        self.assertIn("shown once", out)
        # The demo layout's file now holds the new key.
        self.assertEqual(read_aws(s, "monitoring-service"),
                         {"aws_access_key_id": key_id, "aws_secret_access_key": secret})
        listed = s.cli("client", "access-key", "list", "monitoring-service").stdout
        self.assertIn(key_id, listed)
        shown = s.cli("client", "show", "monitoring-service").stdout
        self.assertRegex(shown, r"access keys: .*" + key_id)
        self.assertNotIn(secret, shown)
        self.assertIn(demo_key, listed)
        self.assertNotIn(secret, listed)
        # A third key is refused, saying what to do.
        third = s.cli("client", "access-key", "create", "monitoring-service", check=False)
        self.assertNotEqual(third.returncode, 0)
        self.assertIn("already has 2 access keys", third.stderr)
        self.assertIn("access-key delete", third.stderr)
        # Deleting a key frees a place; its file goes with it.
        s.cli("client", "access-key", "delete", "monitoring-service", key_id)
        self.assertFalse(os.path.exists(aws_file(s, "monitoring-service")))
        self.assertNotIn(key_id, s.cli("client", "access-key", "list").stdout)
        gone = s.cli("client", "access-key", "delete", "monitoring-service", key_id, check=False)
        self.assertNotEqual(gone.returncode, 0)
        self.assertIn("has no access key " + key_id, gone.stderr)
        # Another client's key cannot be deleted in this client's name.
        other = read_aws(s, "etl-service")["aws_access_key_id"]
        wrong = s.cli("client", "access-key", "delete", "monitoring-service", other, check=False)
        self.assertNotEqual(wrong.returncode, 0)
        self.assertIn(other, s.cli("client", "access-key", "list").stdout)

    def test_chosen_ids_are_checked(self):
        s = self.server
        out = s.cli("client", "access-key", "create", "analytics-service",
                    "--access-key-id", "LGAKCHOSEN0000000001").stdout
        self.assertEqual(printed(out, "AccessKeyId"), "LGAKCHOSEN0000000001")
        bad = s.cli("client", "access-key", "create", "reporting-service",
                    "--access-key-id", "lower-case", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("16 to 128 characters of A-Z and 0-9", bad.stderr)
        taken = s.cli("client", "access-key", "create", "reporting-service",
                      "--access-key-id", "LGAKCHOSEN0000000001", check=False)
        self.assertNotEqual(taken.returncode, 0)
        self.assertIn("already exists", taken.stderr)
        s.cli("client", "access-key", "delete", "analytics-service", "LGAKCHOSEN0000000001")

    def test_deleting_a_client_deletes_its_keys(self):
        s = self.server
        created = s.cli("client", "create", "short-lived", "--scope",
                        "athena-api/query.read").stdout
        self.assertIn("client_secret", created)
        out = s.cli("client", "access-key", "create", "short-lived",
                    "--write-secret-file").stdout
        key_id = printed(out, "AccessKeyId")
        self.assertTrue(os.path.exists(aws_file(s, "short-lived")))
        s.cli("client", "delete", "short-lived", "--yes")
        self.assertNotIn(key_id, s.cli("client", "access-key", "list").stdout)
        self.assertFalse(os.path.exists(aws_file(s, "short-lived")))

    def test_help_and_unknown_client(self):
        help_text = run_cli("client", "access-key", "create", "--help").stdout
        self.assertIn("--access-key-id", help_text)
        missing = self.server.cli("client", "access-key", "create", "nobody", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no client with id or name 'nobody'", missing.stderr)


if __name__ == "__main__":
    unittest.main()
