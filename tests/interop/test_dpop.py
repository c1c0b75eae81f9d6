"""DPoP (RFC 9449) against `lakegate demo` over HTTP, with proofs built by an
independent JOSE implementation (Debian's PyJWT): DPoP-bound tokens at the
token endpoint, their use at the query API, every rejection by its error and
challenge, server nonces, and the client side (`lakegate token/query --dpop`)."""
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import unittest
import uuid

import jwt  # python3-jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, basic, decode_unverified, post_form, request, run_cli  # noqa: E402


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    """A P-256 key and its public JWK / RFC 7638 thumbprint."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                    "y": b64url(numbers.y.to_bytes(32, "big"))}
        canonical = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x", "y")},
                               separators=(",", ":"), sort_keys=True)
        self.jkt = b64url(hashlib.sha256(canonical.encode()).digest())

    def pem(self):
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    def proof(self, method, url, token=None, nonce=None, iat=None, jti=None, header=None,
              drop=()):
        claims = {"jti": jti or str(uuid.uuid4()), "htm": method, "htu": url,
                  "iat": int(time.time()) if iat is None else iat}
        if token is not None:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        if nonce is not None:
            claims["nonce"] = nonce
        for name in drop:
            claims.pop(name, None)
        h = {"typ": "dpop+jwt", "jwk": self.jwk}
        h.update(header or {})
        return jwt.encode(claims, self.pem(), algorithm="ES256", headers=h)


def post_query(url, authorization, proofs, sql="SELECT count(*) AS n FROM analytics.members"):
    """POSTs to the query API with each proof as its own DPoP header (no
    Authorization header when `authorization` is None); returns (status, JSON
    body, headers) with every WWW-Authenticate challenge in headers.get_all."""
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = json.dumps({"query": sql}).encode()
    conn.putrequest("POST", parts.path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    if authorization is not None:
        conn.putheader("Authorization", authorization)
    for p in proofs:
        conn.putheader("DPoP", p)
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else None, resp.headers


class DpopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.creds = cls.server.secret("reporting-service")
        cls.token_url = cls.server.url + "/oauth2/token"
        cls.query_url = cls.server.url + "/v1/query"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def token(self, proofs, creds=None):
        creds = creds or self.creds
        headers = [("Authorization", basic(creds["client_id"], creds["client_secret"]))]
        headers += [("DPoP", p) for p in proofs]
        return self.post_form_multi(self.token_url, {"grant_type": "client_credentials"}, headers)

    @staticmethod
    def post_form_multi(url, form, headers):
        # urllib.request folds repeated headers into one; http.client sends each.
        import http.client
        import urllib.parse
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        body = urllib.parse.urlencode(form)
        conn.putrequest("POST", parts.path)
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body.encode())
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, json.loads(data) if data else None, resp.headers

    def query(self, authorization, proofs, sql="SELECT count(*) AS n FROM analytics.members"):
        return post_query(self.query_url, authorization, proofs, sql)

    def bound_token(self, key):
        status, body, _ = self.token([key.proof("POST", self.token_url)])
        self.assertEqual(status, 200, body)
        return body["access_token"]

    # ---- the token endpoint ----

    def test_metadata_lists_the_proof_algorithms(self):
        status, body, _ = request(self.server.url + "/.well-known/oauth-authorization-server")
        meta = json.loads(body)
        self.assertEqual(meta["dpop_signing_alg_values_supported"],
                         ["ES256", "EdDSA", "RS256", "PS256"])

    def test_proof_binds_the_token(self):
        key = Key()
        status, body, _ = self.token([key.proof("POST", self.token_url)])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "DPoP")
        _, claims = decode_unverified(body["access_token"])
        self.assertEqual(claims["cnf"], {"jkt": key.jkt})
        # The htu is compared after normalisation: host case, default port.
        upper = self.token_url.replace("http://", "HTTP://")
        status, body, _ = self.token([key.proof("POST", upper + "?ignored=1#and-this")])
        self.assertEqual(status, 200, body)

    def test_bad_proofs_are_invalid_dpop_proof_even_with_a_valid_secret(self):
        key = Key()
        now = int(time.time())
        cases = {
            "wrong htm": [key.proof("GET", self.token_url)],
            "wrong htu": [key.proof("POST", self.server.url + "/oauth2/introspect")],
            "stale iat": [key.proof("POST", self.token_url, iat=now - 600)],
            "future iat": [key.proof("POST", self.token_url, iat=now + 600)],
            "wrong typ": [key.proof("POST", self.token_url, header={"typ": "JWT"})],
            "private key in the header": [key.proof(
                "POST", self.token_url,
                header={"jwk": {**key.jwk, "d": b64url(
                    key.private.private_numbers().private_value.to_bytes(32, "big"))}})],
            "no jti": [key.proof("POST", self.token_url, drop=("jti",))],
            "two headers": [key.proof("POST", self.token_url), key.proof("POST", self.token_url)],
        }
        for name, proofs in cases.items():
            with self.subTest(name):
                status, body, _ = self.token(proofs)
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"], "invalid_dpop_proof", body)
        # alg none / HS256: PyJWT signs them, we refuse them.
        claims = {"jti": "x", "htm": "POST", "htu": self.token_url, "iat": now}
        for alg, secret in (("none", None), ("HS256", "k" * 32)):
            with self.subTest(alg):
                proof = jwt.encode(claims, secret, algorithm=alg,
                                   headers={"typ": "dpop+jwt", "jwk": key.jwk})
                status, body, _ = self.token([proof])
                self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"), body)

    def test_replayed_proof_is_refused(self):
        key = Key()
        proof = key.proof("POST", self.token_url)
        self.assertEqual(self.token([proof])[0], 200)
        status, body, _ = self.token([proof])
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))
        self.assertIn("already used", body["error_description"])

    # ---- the query API ----

    def test_bound_token_with_a_proof_runs_queries(self):
        key = Key()
        token = self.bound_token(key)
        for _ in range(2):  # a fresh proof each time
            status, body, _ = self.query("DPoP " + token,
                                         [key.proof("POST", self.query_url, token)])
            self.assertEqual(status, 200, body)
            self.assertTrue(body["success"])

    def test_bound_token_as_bearer_is_refused_with_a_dpop_challenge(self):
        token = self.bound_token(Key())
        status, body, headers = self.query("Bearer " + token, [])
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"]["code"], "invalid_token")
        challenges = headers.get_all("WWW-Authenticate")
        self.assertTrue(challenges[0].startswith('DPoP realm="lakegate", error="invalid_token"'),
                        challenges)
        self.assertIn('algs="ES256 EdDSA RS256 PS256"', challenges[0])
        self.assertIn(', Bearer realm="lakegate"', challenges[0])

    def test_query_proof_rejections(self):
        key = Key()
        token = self.bound_token(key)
        other = Key()
        cases = {
            "no proof": [],
            "no ath": [key.proof("POST", self.query_url)],
            "wrong ath": [key.proof("POST", self.query_url, token + "x")],
            "wrong key": [other.proof("POST", self.query_url, token)],
            "wrong htu": [key.proof("POST", self.server.url + "/query-client-creds", token)],
            "stale": [key.proof("POST", self.query_url, token, iat=int(time.time()) - 600)],
        }
        for name, proofs in cases.items():
            with self.subTest(name):
                status, body, headers = self.query("DPoP " + token, proofs)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["code"], "invalid_dpop_proof", body)
                self.assertTrue(headers.get_all("WWW-Authenticate")[0].startswith(
                    'DPoP realm="lakegate", error="invalid_dpop_proof"'))
        proof = key.proof("POST", self.query_url, token)
        self.assertEqual(self.query("DPoP " + token, [proof])[0], 200)
        status, body, _ = self.query("DPoP " + token, [proof])
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_dpop_proof"))

    def test_unbound_token_with_the_dpop_scheme_is_refused(self):
        status, body, _ = post_form(self.token_url, {"grant_type": "client_credentials"},
                                    {"Authorization": basic(self.creds["client_id"],
                                                            self.creds["client_secret"])})
        token = body["access_token"]
        status, body, headers = self.query("DPoP " + token,
                                           [Key().proof("POST", self.query_url, token)])
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_token"))

    def test_missing_token_challenges_both_schemes(self):
        status, _, headers = self.query(None, [])
        self.assertEqual(status, 401)
        self.assertEqual(headers.get_all("WWW-Authenticate"),
                         ['Bearer realm="lakegate", '
                          'DPoP realm="lakegate", algs="ES256 EdDSA RS256 PS256"'])

    # ---- the client side ----

    def test_cli_token_and_query_with_dpop(self):
        secrets = os.path.join(self.server.dir, "secrets", "reporting-service.json")
        with tempfile.TemporaryDirectory() as cache:
            env = {"XDG_CACHE_HOME": cache}
            out = run_cli("token", "-e", self.server.url, "--secrets-file", secrets, "--dpop",
                          "--print-claims", env=env).stdout
            self.assertIn('"jkt"', out)
            for _ in range(2):  # the second run reuses the cached token and its key
                out = run_cli("query", "-e", self.server.url, "--secrets-file", secrets, "--dpop",
                              "--format", "json", "SELECT count(*) AS n FROM members",
                              env=env).stdout
                self.assertIn('"success":true', out.replace(" ", ""))
            files = [os.path.join(root, f) for root, _, fs in os.walk(cache) for f in fs]
            self.assertEqual(len(files), 1, files)
            self.assertEqual(os.stat(files[0]).st_mode & 0o777, 0o600)
            with open(files[0]) as f:
                entry = json.load(f)
            self.assertIn("BEGIN PRIVATE KEY", entry["dpop_key_pem"])
            _, claims = decode_unverified(entry["access_token"])
            self.assertIn("jkt", claims["cnf"])
            # A key file of the client's own.
            key = Key()
            key_file = os.path.join(cache, "dpop.pem")
            with open(key_file, "w") as f:
                f.write(key.pem())
            token = run_cli("token", "-e", self.server.url, "--secrets-file", secrets,
                            "--dpop-key", key_file, "--no-cache", env=env).stdout.strip()
            self.assertEqual(decode_unverified(token)[1]["cnf"]["jkt"], key.jkt)


class DpopNonceTest(unittest.TestCase):
    """tokens.dpop_nonce: true: every proof must carry a nonce the server gave."""

    @classmethod
    def setUpClass(cls):
        first = Server().start()
        first.stop()
        with open(first.stack_file) as f:
            stack = f.read()
        with open(first.stack_file, "w") as f:
            f.write(stack.replace("tokens:\n", "tokens:\n  dpop_nonce: true\n", 1))
        cls.server = Server(args=["demo", "--dir", first.dir, "--port", "0"],
                            directory=first.dir).start()
        cls.creds = cls.server.secret("reporting-service")
        cls.token_url = cls.server.url + "/oauth2/token"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil_rmtree(cls.server.dir)

    def test_use_dpop_nonce_then_success(self):
        key = Key()
        auth = {"Authorization": basic(self.creds["client_id"], self.creds["client_secret"])}
        status, body, headers = post_form(self.token_url, {"grant_type": "client_credentials"},
                                          {**auth, "DPoP": key.proof("POST", self.token_url)})
        self.assertEqual((status, body["error"]), (400, "use_dpop_nonce"), body)
        nonce = headers["dpop-nonce"]
        status, body, headers = post_form(
            self.token_url, {"grant_type": "client_credentials"},
            {**auth, "DPoP": key.proof("POST", self.token_url, nonce=nonce)})
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["dpop-nonce"])
        token = body["access_token"]
        # The query API demands one too (401 use_dpop_nonce), and takes the same.
        query_url = self.server.url + "/v1/query"
        status, data, headers = post_query(query_url, "DPoP " + token,
                                           [key.proof("POST", query_url, token)])
        self.assertEqual(status, 401, data)
        self.assertEqual(data["error"]["code"], "use_dpop_nonce")
        self.assertTrue(headers.get_all("WWW-Authenticate")[0].startswith(
            'DPoP realm="lakegate", error="use_dpop_nonce"'))
        nonce = headers["DPoP-Nonce"]
        status, data, headers = post_query(query_url, "DPoP " + token,
                                           [key.proof("POST", query_url, token, nonce=nonce)])
        self.assertEqual(status, 200, data)
        self.assertTrue(headers["DPoP-Nonce"])

    def test_cli_retries_once_with_the_servers_nonce(self):
        secrets = os.path.join(self.server.dir, "secrets", "reporting-service.json")
        out = run_cli("query", "-e", self.server.url, "--secrets-file", secrets, "--dpop",
                      "--no-cache", "--format", "json", "SELECT count(*) AS n FROM members").stdout
        self.assertIn('"success":true', out.replace(" ", ""))


def shutil_rmtree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
