"""Interop: Debian's PyJWT (an independent JOSE implementation) verifies
lakegate's access tokens through the published JWKS, for every algorithm."""
import os
import sys
import tempfile
import unittest

import jwt  # python3-jwt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, run_cli  # noqa: E402

STACK = """\
tokens:
  algorithm: {alg}
resource_servers:
  - identifier: athena-api
    name: Athena
    scopes: [{{name: query.read}}]
clients:
  - name: svc
    scopes: [athena-api/query.read]
"""


class PyJwtInteropTest(unittest.TestCase):
    def verify(self, server, token, alg):
        jwks = jwt.PyJWKClient(server.url + "/.well-known/jwks.json")
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=[alg], issuer=server.url,
                            audience="athena-api",
                            options={"require": ["exp", "iat", "iss", "sub", "jti"]})
        self.assertEqual(jwt.get_unverified_header(token)["typ"], "at+jwt")
        return claims

    def test_every_algorithm_verifies_with_pyjwt(self):
        for alg in ("ES256", "EdDSA", "RS256"):
            with self.subTest(alg=alg), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "stack.yaml")
                with open(path, "w") as f:
                    f.write(STACK.format(alg=alg))
                with Server(["serve", "--config", path, "--port", "0"], directory=d) as server:
                    token = server.access_token("svc")
                    claims = self.verify(server, token, alg)
                    self.assertEqual(claims["client_id"], server.secret("svc")["client_id"])
                    self.assertEqual(claims["token_use"], "access")
                    # A tampered token is refused by the independent verifier too.
                    head, body, sig = token.split(".")
                    forged = head + "." + body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
                    with self.assertRaises(jwt.PyJWTError):
                        self.verify(server, forged, alg)

    def test_rotation_keeps_old_tokens_verifiable_with_pyjwt(self):
        with Server() as server:
            old = server.access_token()
            run_cli("key", "rotate", "--alg", "EdDSA", "--config", server.stack_file)
            # The server reloads within a second; a new token is signed by the new key.
            import time
            deadline = time.time() + 5
            while jwt.get_unverified_header(server.access_token())["alg"] != "EdDSA" and time.time() < deadline:
                time.sleep(0.1)
            new = server.access_token()
            self.assertEqual(jwt.get_unverified_header(new)["alg"], "EdDSA")
            self.verify(server, old, "ES256")
            self.verify(server, new, "EdDSA")


if __name__ == "__main__":
    unittest.main()
