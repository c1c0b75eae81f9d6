"""Mutual TLS (RFC 8705) against `lakegate demo --tls-port`: the demo's HTTPS
port, tls_client_auth by subject DN and by SAN, self_signed_tls_client_auth,
certificate-bound tokens at the query API (with, without and with another
certificate, and over plain HTTP), the metadata, and the CLI's --cert.

Client certificates are made at test time with the openssl command (signed
by the demo's CA, by a CA of the test's own, or self-signed).
"""
import hashlib
import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import Server, basic, decode_unverified, run_cli

QUERY = json.dumps({"query": "SELECT count(*) AS n FROM members"}).encode()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_key_and_csr(name, subject, cwd):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject, cwd=cwd)


def sign(name, ca_pem, ca_key, extensions, cwd):
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write(extensions)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca_pem, "-CAkey", ca_key,
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
            cwd=cwd)


def self_signed(name, subject, cwd):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", subject,
            "-addext", "extendedKeyUsage=clientAuth", cwd=cwd)


def thumbprint(pem_path):
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def https_url(server):
    """The demo's HTTPS URL from its banner."""
    for _ in range(200):
        for line in list(server.stdout_lines):
            if "over HTTPS at " in line:
                return line.split("over HTTPS at ")[1].split()[0]
        time.sleep(0.05)
    raise AssertionError("no HTTPS URL in:\n" + "".join(server.stdout_lines))


class MutualTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lakegate-mtls-")
        cls.demo = os.path.join(cls.dir, "demo")
        cls.server = Server(["demo", "--dir", cls.demo, "--port", "0", "--tls-port", "0"],
                            directory=cls.demo).start()
        cls.https = https_url(cls.server)
        cls.ca = os.path.join(cls.demo, "tls", "ca.pem")
        ca_key = os.path.join(cls.demo, "tls", "ca-key.pem")
        certs = cls.certs = os.path.join(cls.dir, "certs")
        os.makedirs(certs)
        client_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
        make_key_and_csr("dn", "/C=DE/O=Example/CN=mtls-dn", certs)
        sign("dn", cls.ca, ca_key, client_ext, certs)
        make_key_and_csr("san", "/CN=anything", certs)
        sign("san", cls.ca, ca_key, client_ext + "subjectAltName=DNS:svc.example.com\n", certs)
        self_signed("self", "/CN=mtls-self", certs)
        self_signed("stranger", "/CN=mtls-self", certs)
        # A CA of our own that the server does not trust, issuing the DN the
        # mtls-dn client registered.
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "otherca.key", "-out", "otherca.pem", "-days", "2", "-subj",
                "/CN=other CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign", cwd=certs)
        make_key_and_csr("forged", "/C=DE/O=Example/CN=mtls-dn", certs)
        sign("forged", "otherca.pem", "otherca.key", client_ext, certs)

        def create(*args):
            out = run_cli("client", "create", *args, "--scope", "athena-api/query.read",
                          "--config", cls.server.stack_file).stdout
            return next(line.split()[1] for line in out.splitlines()
                        if line.startswith("client_id:"))

        cls.ids = {
            "dn": create("mtls-dn", "--auth", "tls_client_auth", "--tls-subject-dn",
                         "CN=mtls-dn,O=Example,C=DE"),
            "san": create("mtls-san", "--auth", "tls_client_auth", "--tls-san-dns",
                          "svc.example.com"),
            "self": create("mtls-self", "--auth", "self_signed_tls_client_auth", "--cert",
                           os.path.join(certs, "self.pem")),
        }
        # The running server sees CLI changes within its reload tick.
        time.sleep(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------
    def context(self, cert=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        if cert:
            ctx.load_cert_chain(os.path.join(self.certs, cert + ".pem"),
                                os.path.join(self.certs, cert + ".key"))
        return ctx

    def call(self, url, body=None, headers=None, cert=None, method=None):
        req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
        ctx = self.context(cert) if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
                return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), dict(e.headers)

    def token(self, base, form, cert=None, headers=None):
        body = urllib.parse.urlencode({"grant_type": "client_credentials", **form}).encode()
        return self.call(base + "/oauth2/token", body, {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})}, cert)

    def mtls_token(self, client, cert):
        status, body, _ = self.token(self.https, {"client_id": self.ids[client]}, cert)
        self.assertEqual(status, 200, body)
        return body["access_token"]

    def query(self, base, token, cert=None):
        return self.call(base + "/v1/query", QUERY, {"Authorization": "Bearer " + token,
                                                      "Content-Type": "application/json"}, cert)

    def assert_invalid_client(self, answer, says):
        status, body, _ = answer
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"], "invalid_client")
        self.assertIn(says, body["error_description"])

    def assert_bound_refused(self, answer, says):
        status, body, headers = answer
        self.assertEqual(status, 401, body)
        challenge = headers.get("WWW-Authenticate", "")
        self.assertIn('error="invalid_token"', challenge)
        self.assertIn(says, challenge)

    # --- tests -------------------------------------------------------------------
    def test_metadata_over_tls_names_the_https_endpoints(self):
        status, doc, _ = self.call(self.https + "/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        self.assertEqual(doc["issuer"], self.server.url)  # the issuer stays the http URL
        self.assertIs(doc["tls_client_certificate_bound_access_tokens"], True)
        self.assertEqual(doc["mtls_endpoint_aliases"]["token_endpoint"],
                         self.https + "/oauth2/token")
        for method in ("tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt",
                       "client_secret_basic"):
            self.assertIn(method, doc["token_endpoint_auth_methods_supported"])
        # The demo CA is where the docs say, and the plain port still answers.
        self.assertEqual(self.call(self.server.url + "/healthz")[0], 200)

    def test_tls_client_auth_by_subject_dn_and_bound_token(self):
        token = self.mtls_token("dn", "dn")
        _, claims = decode_unverified(token)
        self.assertEqual(claims["cnf"]["x5t#S256"], thumbprint(os.path.join(self.certs, "dn.pem")))
        self.assertEqual(claims["client_id"], self.ids["dn"])
        status, body, _ = self.query(self.https, token, cert="dn")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"], [{"n": 1000}])
        # The bound token without its certificate, with another, over plain HTTP.
        self.assert_bound_refused(self.query(self.https, token), "none was presented")
        self.assert_bound_refused(self.query(self.https, token, cert="san"),
                                  "another TLS client certificate")
        self.assert_bound_refused(self.query(self.server.url, token), "send it over HTTPS")

    def test_tls_client_auth_by_san(self):
        status, body, _ = self.query(self.https, self.mtls_token("san", "san"), cert="san")
        self.assertEqual(status, 200, body)

    def test_self_signed_tls_client_auth(self):
        status, body, _ = self.query(self.https, self.mtls_token("self", "self"), cert="self")
        self.assertEqual(status, 200, body)
        self.assert_invalid_client(self.token(self.https, {"client_id": self.ids["self"]},
                                              cert="stranger"),
                                   "is not one registered for client 'mtls-self'")

    def test_wrong_certificates_are_invalid_client(self):
        self.assert_invalid_client(self.token(self.https, {"client_id": self.ids["dn"]},
                                              cert="forged"),
                                   "does not chain to a trusted certificate authority")
        self.assert_invalid_client(self.token(self.https, {"client_id": self.ids["dn"]},
                                              cert="san"),
                                   "is not the tls_client_auth_subject_dn")
        self.assert_invalid_client(self.token(self.https, {"client_id": self.ids["san"]},
                                              cert="dn"),
                                   "tls_client_auth_san_dns")
        # No certificate: nothing authenticates the client_id.
        self.assert_invalid_client(self.token(self.https, {"client_id": self.ids["dn"]}),
                                   "client authentication required")
        self.assert_invalid_client(self.token(self.server.url, {"client_id": self.ids["dn"]}),
                                   "client authentication required")

    def test_secret_client_gets_a_bound_token_when_it_presents_a_certificate(self):
        creds = self.server.secret("reporting-service")
        auth = {"Authorization": basic(creds["client_id"], creds["client_secret"])}
        status, body, _ = self.token(self.https, {}, cert="self", headers=auth)
        self.assertEqual(status, 200, body)
        token = body["access_token"]
        self.assertEqual(decode_unverified(token)[1]["cnf"]["x5t#S256"],
                         thumbprint(os.path.join(self.certs, "self.pem")))
        self.assertEqual(self.query(self.https, token, cert="self")[0], 200)
        self.assert_bound_refused(self.query(self.server.url, token), "send it over HTTPS")
        # Over TLS without a certificate: an ordinary token, good anywhere.
        status, body, _ = self.token(self.https, {}, headers=auth)
        self.assertEqual(status, 200, body)
        self.assertNotIn("cnf", decode_unverified(body["access_token"])[1])
        self.assertEqual(self.query(self.server.url, body["access_token"])[0], 200)

    def test_cli_token_and_query_with_a_certificate(self):
        args = ["--endpoint", self.https, "--client-id", self.ids["dn"], "--cert",
                os.path.join(self.certs, "dn.pem"), "--cert-key",
                os.path.join(self.certs, "dn.key"), "--cacert", self.ca, "--no-cache"]
        token = run_cli("token", *args).stdout.strip().splitlines()[-1]
        self.assertIn("cnf", decode_unverified(token)[1])
        out = run_cli("query", *args, "--format", "json",
                      "SELECT count(*) AS n FROM members").stdout
        self.assertIn("1000", out)
        failed = run_cli("token", "--endpoint", self.https, "--client-id", self.ids["dn"],
                         "--cert", os.path.join(self.certs, "san.pem"), "--cert-key",
                         os.path.join(self.certs, "san.key"), "--cacert", self.ca, "--no-cache",
                         check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("tls_client_auth_subject_dn", failed.stderr)

    def test_demo_reuses_its_certificate_authority(self):
        with open(self.ca) as f:
            first = f.read()
        self.assertEqual(os.stat(os.path.join(self.demo, "tls", "ca-key.pem")).st_mode & 0o777,
                         0o600)
        self.assertEqual(
            os.stat(os.path.join(self.demo, "tls", "server-key.pem")).st_mode & 0o777, 0o600)
        with Server(["demo", "--dir", self.demo, "--port", "0", "--tls-port", "0"],
                    directory=self.demo) as again:
            self.assertTrue(https_url(again).startswith("https://127.0.0.1:"))
        with open(self.ca) as f:
            self.assertEqual(f.read(), first)


if __name__ == "__main__":
    unittest.main()
