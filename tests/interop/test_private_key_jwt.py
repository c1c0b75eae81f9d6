"""private_key_jwt against `lakegate demo`, with client assertions built by an
independent JOSE implementation (Debian's PyJWT): the demo's keyjwt-service
and its key file, every acceptance path, every rejection path by its error and
description, and the client side (`lakegate token/query --key`)."""
import json
import os
import stat
import sys
import time
import unittest
import uuid

import jwt  # python3-jwt
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, basic, decode_unverified, get_json, post_form, run_cli  # noqa: E402

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class PrivateKeyJwtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.key_file = os.path.join(cls.server.dir, "secrets", "keyjwt-service.json")
        with open(cls.key_file) as f:
            cls.keyfile = json.load(f)
        cls.client_id = cls.keyfile["client_id"]
        cls.kid = cls.keyfile["kid"]
        cls.pem = cls.keyfile["private_key_pem"]
        cls.meta = get_json(cls.server.url + "/.well-known/oauth-authorization-server")[1]
        cls.token_url = cls.meta["token_endpoint"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def claims(self, **overrides):
        now = int(time.time())
        c = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
             "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        for k, v in overrides.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def assertion(self, claims=None, key=None, headers=None, algorithm="ES256"):
        h = {"kid": self.kid, "typ": "JWT"}
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return jwt.encode(claims or self.claims(), key or self.pem, algorithm=algorithm, headers=h)

    def post(self, assertion, extra=None, headers=None, assertion_type=ASSERTION_TYPE):
        form = {"grant_type": "client_credentials"}
        if assertion_type is not None:
            form["client_assertion_type"] = assertion_type
        if assertion is not None:
            form["client_assertion"] = assertion
        form.update(extra or {})
        return post_form(self.token_url, form, headers)

    def refused(self, response, description):
        status, body, headers = response
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"], "invalid_client", body)
        self.assertIn(description, body.get("error_description", ""))

    # ---- the demo's key client ----

    def test_key_file_and_registration(self):
        mode = stat.S_IMODE(os.stat(self.key_file).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertIn("-----BEGIN PRIVATE KEY-----", self.pem)
        self.assertIsInstance(self.kid, str)
        key = serialization.load_pem_private_key(self.pem.encode(), password=None)
        self.assertIsInstance(key.curve, ec.SECP256R1)
        show = self.server.cli("client", "show", "keyjwt-service").stdout
        self.assertIn("private_key_jwt", show)
        self.assertIn(self.kid, show)

    def test_metadata(self):
        self.assertIn("private_key_jwt", self.meta["token_endpoint_auth_methods_supported"])
        algs = self.meta["token_endpoint_auth_signing_alg_values_supported"]
        self.assertIn("ES256", algs)
        self.assertNotIn("none", algs)

    def test_token_with_either_audience_and_exactly_read_scope(self):
        for aud in (self.token_url, self.meta["issuer"], [self.meta["issuer"], "x"]):
            status, body, _ = self.post(self.assertion(self.claims(aud=aud)))
            self.assertEqual(status, 200, body)
            self.assertEqual(body["scope"], "athena-api/query.read")
            self.assertEqual(decode_unverified(body["access_token"])[1]["client_id"], self.client_id)
        # client_id in the form is optional but allowed when it equals sub.
        status, body, _ = self.post(self.assertion(), {"client_id": self.client_id})
        self.assertEqual(status, 200, body)
        status, body, _ = self.post(self.assertion(), {"scope": "athena-api/query.write"})
        self.assertEqual((status, body["error"]), (400, "invalid_scope"))

    def test_query_as_lf_dev_role(self):
        token = self.post(self.assertion())[1]["access_token"]
        status, data, _ = self.server_query(token, "SELECT count(*) AS n FROM members")
        self.assertEqual(status, 200, data)
        self.assertEqual(data["lfRole"], "lf-dev-role")
        # lf-dev-role does not see email: the column does not exist for it.
        status, data, _ = self.server_query(token, "SELECT email FROM members LIMIT 1")
        self.assertEqual(status, 400, data)
        self.assertIn("email", data["error"]["message"])

    def server_query(self, token, sql):
        import urllib.request
        req = urllib.request.Request(
            self.server.url + "/v1/query", data=json.dumps({"query": sql}).encode(), method="POST",
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read()), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), e.headers

    # ---- rejections, each by its error ----

    def test_replayed_jti(self):
        a = self.assertion()
        self.assertEqual(self.post(a)[0], 200)
        self.refused(self.post(a), "jti was already used")

    def test_wrong_aud(self):
        self.refused(self.post(self.assertion(self.claims(aud="https://elsewhere/token"))),
                     "aud must be the token endpoint URL")

    def test_expired(self):
        now = int(time.time())
        self.refused(self.post(self.assertion(self.claims(iat=now - 600, exp=now - 300))),
                     "expired")

    def test_too_long_lived(self):
        self.refused(self.post(self.assertion(self.claims(exp=int(time.time()) + 3600))),
                     "more than 300 seconds ahead")

    def test_iss_not_sub(self):
        self.refused(self.post(self.assertion(self.claims(iss="someone-else"))),
                     "iss must be the client_id")

    def test_missing_jti(self):
        self.refused(self.post(self.assertion(self.claims(jti=None))), "no jti")

    def test_unknown_and_missing_kid(self):
        self.refused(self.post(self.assertion(headers={"kid": "not-registered"})),
                     "is not a registered key")
        self.refused(self.post(self.assertion(headers={"kid": None})), "no kid")

    def test_alg_none(self):
        unsigned = jwt.encode(self.claims(), None, algorithm="none", headers={"kid": self.kid})
        self.refused(self.post(unsigned), 'alg "none" is not accepted')

    def test_hmac_with_the_public_key(self):
        public_pem = serialization.load_pem_private_key(self.pem.encode(), None).public_key() \
            .public_bytes(serialization.Encoding.PEM,
                          serialization.PublicFormat.SubjectPublicKeyInfo)
        header = jwt.utils.base64url_encode(
            json.dumps({"alg": "HS256", "kid": self.kid}).encode()).decode()
        payload = jwt.utils.base64url_encode(json.dumps(self.claims()).encode()).decode()
        mac = hmac.HMAC(public_pem, hashes.SHA256())
        mac.update((header + "." + payload).encode())
        forged = header + "." + payload + "." + jwt.utils.base64url_encode(mac.finalize()).decode()
        self.refused(self.post(forged), 'alg "HS256" is not accepted')

    def test_wrong_key(self):
        other = ec.generate_private_key(ec.SECP256R1())
        self.refused(self.post(self.assertion(key=other)), "signature does not verify")

    def test_wrong_assertion_type(self):
        self.refused(self.post(self.assertion(),
                               assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
                     "client_assertion_type must be")

    def test_client_id_must_equal_sub(self):
        other = self.server.secret("reporting-service")["client_id"]
        self.refused(self.post(self.assertion(), {"client_id": other}), "does not match")

    def test_assertion_with_a_secret_is_invalid_request(self):
        creds = self.server.secret("reporting-service")
        a = self.assertion()
        status, body, _ = self.post(a, headers={"Authorization": basic(creds["client_id"],
                                                                         creds["client_secret"])})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, body, _ = self.post(a, {"client_secret": "anything"})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))

    def test_each_client_uses_only_its_method(self):
        # A secret client's assertion (signed by our key, iss = sub = its id).
        other = self.server.secret("reporting-service")["client_id"]
        self.refused(self.post(self.assertion(self.claims(iss=other, sub=other))),
                     "not registered for private_key_jwt")
        # The key client has no secret.
        status, body, _ = post_form(self.token_url, {"grant_type": "client_credentials"},
                                    {"Authorization": basic(self.client_id, "guess")})
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    # ---- registration with the CLI ----

    def test_cli_client_create_with_jwks_file(self):
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        jwk["kid"] = "cli-key-1"
        jwks_path = os.path.join(self.server.dir, "cli-jwks.json")
        with open(jwks_path, "w") as f:
            json.dump({"keys": [jwk]}, f)
        out = self.server.cli("client", "create", "cli-signer", "--scope", "athena-api/query.read",
                              "--auth", "private_key_jwt", "--jwks", jwks_path).stdout
        self.assertIn("private_key_jwt", out)
        self.assertNotIn("client_secret:", out)
        client_id = next(line.split()[1] for line in out.splitlines()
                         if line.startswith("client_id:"))
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        deadline = time.time() + 5
        while True:  # the server picks the new client up within a second
            now = int(time.time())
            claims = {"iss": client_id, "sub": client_id, "aud": self.token_url,
                      "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
            status, body, _ = self.post(jwt.encode(claims, pem, algorithm="ES256",
                                                   headers={"kid": "cli-key-1"}))
            if status == 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200, body)
        # No keys, or keys for a secret client, are refused with advice.
        bad = self.server.cli("client", "create", "no-keys", "--scope", "athena-api/query.read",
                              "--auth", "private_key_jwt", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--jwks", bad.stderr)

    # ---- the client side ----

    def test_cli_token_and_query_with_key(self):
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.server.dir, "cache"))
        out = run_cli("token", "--endpoint", self.server.url, "--key", self.key_file,
                      "--no-cache", env=env).stdout.strip()
        self.assertEqual(decode_unverified(out)[1]["client_id"], self.client_id)
        out = run_cli("query", "--endpoint", self.server.url, "--key", self.key_file,
                      "--format", "json", "SELECT count(*) AS n FROM members", env=env).stdout
        self.assertEqual(json.loads(out)["lfRole"], "lf-dev-role")


if __name__ == "__main__":
    unittest.main()
