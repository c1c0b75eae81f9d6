"""Runs node_interop.mjs, node_private_key_jwt.mjs and node_dpop.mjs (openid-client
+ jose from npm, versions locked in package-lock.json) against a live demo server."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Server  # noqa: E402


class NodeInteropTest(unittest.TestCase):
    def test_openid_client_and_jose(self):
        self.assertTrue(os.path.isdir(os.path.join(HERE, "node_modules", "openid-client")),
                        "run `npm ci --prefix tests/interop` first (scripts/test.sh does)")
        with Server() as server:
            creds = server.secret("reporting-service")
            proc = subprocess.run(["node", "node_interop.mjs", server.url, creds["client_id"],
                                   creds["client_secret"]], cwd=HERE, capture_output=True,
                                  text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("node interop: all passed", proc.stdout)

    def test_openid_client_private_key_jwt(self):
        self.assertTrue(os.path.isdir(os.path.join(HERE, "node_modules", "openid-client")),
                        "run `npm ci --prefix tests/interop` first (scripts/test.sh does)")
        with Server() as server:
            key_file = os.path.join(server.dir, "secrets", "keyjwt-service.json")
            proc = subprocess.run(["node", "node_private_key_jwt.mjs", server.url, key_file],
                                  cwd=HERE, capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("node private_key_jwt interop: all passed", proc.stdout)

    def test_openid_client_dpop(self):
        self.assertTrue(os.path.isdir(os.path.join(HERE, "node_modules", "openid-client")),
                        "run `npm ci --prefix tests/interop` first (scripts/test.sh does)")
        with Server() as server:
            creds = server.secret("reporting-service")
            proc = subprocess.run(["node", "node_dpop.mjs", server.url, creds["client_id"],
                                   creds["client_secret"]], cwd=HERE, capture_output=True,
                                  text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("node DPoP interop: all passed", proc.stdout)


if __name__ == "__main__":
    unittest.main()
