"""The Athena-compatible endpoint with AWS Signature Version 4: boto3, the AWS
CLI and PyAthena with the demo's access keys (DIR/secrets/<client>-aws.json),
and requests signed by hand that the server must refuse (wrong key, tampered
body, an old X-Amz-Date).

Runs under the pinned virtual environment (tests/interop/venv_python.sh).
"""
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import unittest
from unittest import mock

import boto3
import botocore
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, request  # noqa: E402
import test_athena as boto3_test  # noqa: E402  (its helpers; its tests run on their own)

FINISHED = boto3_test.FINISHED
wait = boto3_test.wait


def aws_keys(server, client):
    with open(os.path.join(server.dir, "secrets", client + "-aws.json")) as f:
        keys = json.load(f)
    return keys["aws_access_key_id"], keys["aws_secret_access_key"]


def athena(server, client, region="us-east-1"):
    key_id, secret = aws_keys(server, client)
    return boto3.client("athena", endpoint_url=server.url, region_name=region,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def sign(url, key_id, secret, target, body, when=None, region="us-east-1"):
    """Headers of a SigV4-signed awsJson1_1 request (AWS's documented algorithm)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    host = url.split("://", 1)[1]
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {"content-type": "application/x-amz-json-1.1", "host": host,
               "x-amz-date": amz_date, "x-amz-target": target}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "",
                           signed, payload_hash])
    scope = f"{day}/{region}/athena/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "athena", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    return headers


class AthenaSigV4Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_boto3_runs_a_query_in_any_region(self):
        client = athena(self.server, "etl-service", region="eu-west-3")
        qid = client.start_query_execution(
            QueryString="SELECT count(*) AS n FROM members",
            QueryExecutionContext={"Database": "analytics"})["QueryExecutionId"]
        self.assertEqual(wait(client, qid)["Status"]["State"], "SUCCEEDED")
        rows = client.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
        self.assertEqual([[d["VarCharValue"] for d in r["Data"]] for r in rows], [["n"], ["1000"]])

    def test_dev_key_never_sees_email(self):
        client = athena(self.server, "reporting-service")
        qid = client.start_query_execution(QueryString="SELECT * FROM members")["QueryExecutionId"]
        wait(client, qid)
        seen = 0
        for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            names = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
            self.assertNotIn("email", names)
            for row in page["ResultSet"]["Rows"]:
                self.assertFalse(any("@" in d.get("VarCharValue", "") for d in row["Data"]))
            seen += len(page["ResultSet"]["Rows"])
        self.assertEqual(seen, 1001)
        table = client.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="analytics",
                                          TableName="members")["TableMetadata"]
        self.assertNotIn("email", [c["Name"] for c in table["Columns"]])
        qid = client.start_query_execution(QueryString="SELECT email FROM members")[
            "QueryExecutionId"]
        self.assertEqual(wait(client, qid)["Status"]["State"], "FAILED")

    def test_one_client_cannot_read_or_stop_anothers_execution(self):
        etl = athena(self.server, "etl-service")
        dev = athena(self.server, "reporting-service")
        qid = etl.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
        wait(etl, qid)
        for call in (dev.get_query_execution, dev.get_query_results, dev.stop_query_execution):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                call(QueryExecutionId=qid)
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_wrong_key_tampered_body_and_old_date_are_refused(self):
        key_id, secret = aws_keys(self.server, "etl-service")
        body = json.dumps({"QueryString": "SELECT 1"}).encode()
        target = "AmazonAthena.StartQueryExecution"

        def send(headers, data=body):
            status, text, _ = request(self.server.url + "/", "POST", data, headers)
            return status, json.loads(text)

        status, ok = send(sign(self.server.url, key_id, secret, target, body))
        self.assertEqual(status, 200, ok)
        self.assertIn("QueryExecutionId", ok)
        status, err = send(sign(self.server.url, key_id, "x" + secret[1:], target, body))
        self.assertEqual(status, 403, err)
        self.assertEqual(err["__type"], "InvalidSignatureException")
        status, err = send(sign(self.server.url, "AKIANOSUCHKEY0000000", secret, target, body))
        self.assertIn(status, (401, 403), err)
        self.assertEqual(err["__type"], "UnrecognizedClientException")
        tampered = body.replace(b"SELECT 1", b"SELECT 2")
        status, err = send(sign(self.server.url, key_id, secret, target, body), tampered)
        self.assertIn(status, (400, 403), err)
        self.assertIn("Signature", err["__type"])
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        status, err = send(sign(self.server.url, key_id, secret, target, body, when=old))
        self.assertEqual(status, 403, err)
        self.assertEqual(err["__type"], "InvalidSignatureException")

    def audit_failures(self):
        """The audit lines of refused signatures so far (their reasons)."""
        with open(os.path.join(self.server.dir, "state", "audit.log")) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        return [line.get("reason") for line in lines
                if str(line.get("reason", "")).startswith("sigv4.")]

    def expect_refused(self, call, code, reason, status=403):
        before = len(self.audit_failures())
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            call()
        self.assertEqual(e.exception.response["Error"]["Code"], code, e.exception.response)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        # One audit line per refused request, naming why.
        deadline = time.time() + 5
        while len(self.audit_failures()) == before and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.audit_failures()[before:], [reason])
        return e.exception.response["Error"]

    def test_botocore_signatures_that_must_fail(self):
        key_id, secret = aws_keys(self.server, "monitoring-service")
        wrong = boto3.client("athena", endpoint_url=self.server.url, region_name="us-east-1",
                             aws_access_key_id=key_id, aws_secret_access_key=secret[::-1],
                             config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.expect_refused(wrong.list_work_groups, "InvalidSignatureException",
                            "sigv4.sigv4_bad_signature")

        unknown = boto3.client("athena", endpoint_url=self.server.url, region_name="us-east-1",
                               aws_access_key_id="LGAKNOSUCHKEY0000000",
                               aws_secret_access_key=secret,
                               config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.expect_refused(unknown.list_work_groups, "UnrecognizedClientException",
                            "sigv4.sigv4_unknown_key")

        # The body changed after botocore signed it.
        tampering = athena(self.server, "monitoring-service")
        tampering.meta.events.register(
            "before-send.athena.*",
            lambda request, **_: setattr(request, "body",
                                         request.body.replace(b"SELECT 1", b"SELECT 2")))
        self.expect_refused(lambda: tampering.start_query_execution(QueryString="SELECT 1"),
                            "InvalidSignatureException", "sigv4.sigv4_bad_signature")

        # botocore signing 20 minutes in the past.
        old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
            datetime.timedelta(minutes=20)
        late = athena(self.server, "monitoring-service")
        with mock.patch("botocore.auth.get_current_datetime", return_value=old):
            error = self.expect_refused(late.list_work_groups, "InvalidSignatureException",
                                        "sigv4.sigv4_expired")
        self.assertIn("Signature expired", error["Message"])

        # A signed X-Amz-Content-Sha256 that is not the body's hash: never believed.
        lying = athena(self.server, "monitoring-service")
        lying.meta.events.register(
            "before-sign.athena.*",
            lambda request, **_: request.headers.__setitem__("X-Amz-Content-Sha256", "0" * 64))
        self.expect_refused(lying.list_work_groups, "InvalidSignatureException",
                            "sigv4.sigv4_payload_hash", status=400)

        # The same key works again: a handful of mistakes locks nobody out.
        athena(self.server, "monitoring-service").list_work_groups()

    def test_a_disabled_clients_keys_stop_at_once(self):
        client = athena(self.server, "analytics-service")
        client.list_work_groups()
        self.server.cli("client", "disable", "analytics-service")
        try:
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    client.list_work_groups()
                    time.sleep(0.05)
                except botocore.exceptions.ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "UnrecognizedClientException")
                    break
            else:
                self.fail("the disabled client's key still works")
        finally:
            self.server.cli("client", "enable", "analytics-service")

    def test_aws_cli_runs_a_query(self):
        key_id, secret = aws_keys(self.server, "etl-service")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": ""}
        aws = os.path.join(os.path.dirname(sys.executable), "aws")

        def cli(*args):
            proc = subprocess.run([aws, "athena", *args, "--endpoint-url", self.server.url,
                                   "--output", "json"], capture_output=True, text=True,
                                  env=env, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout)

        qid = cli("start-query-execution", "--query-string",
                  "SELECT region, count(*) AS n FROM members GROUP BY region ORDER BY region",
                  "--query-execution-context", "Database=analytics")["QueryExecutionId"]
        for _ in range(600):
            state = cli("get-query-execution", "--query-execution-id", qid)[
                "QueryExecution"]["Status"]["State"]
            if state in FINISHED:
                break
            time.sleep(0.1)
        self.assertEqual(state, "SUCCEEDED")
        rows = cli("get-query-results", "--query-execution-id", qid)["ResultSet"]["Rows"]
        self.assertEqual([d["VarCharValue"] for d in rows[0]["Data"]], ["region", "n"])
        self.assertEqual(sum(int(r["Data"][1]["VarCharValue"]) for r in rows[1:]), 1000)

    def test_pyathena_runs_a_query(self):
        from pyathena import connect
        key_id, secret = aws_keys(self.server, "reporting-service")
        conn = connect(s3_staging_dir="s3://lakegate-query-results/", region_name="us-east-1",
                       schema_name="analytics", endpoint_url=self.server.url,
                       aws_access_key_id=key_id, aws_secret_access_key=secret, poll_interval=0.05)
        cursor = conn.cursor()
        cursor.execute("SELECT member_id, name, lifetime_value FROM members "
                       "WHERE member_id <= %(n)d ORDER BY member_id", {"n": 3})
        rows = cursor.fetchall()
        self.assertEqual([r[0] for r in rows], [1, 2, 3])
        self.assertIsInstance(rows[0][1], str)
        self.assertIsInstance(rows[0][2], float)
        self.assertEqual([d[0] for d in cursor.description], ["member_id", "name", "lifetime_value"])


if __name__ == "__main__":
    unittest.main()


class SharedFailureLimitsTest(unittest.TestCase):
    """Signature failures and token-endpoint failures charge the same buckets:
    a guesser gains nothing by switching from one door to the other."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_bad_signatures_close_the_token_endpoint_to_that_address(self):
        client = "reporting-service"
        key_id, secret = aws_keys(self.server, client)
        body = json.dumps({}).encode()
        target = "AmazonAthena.ListWorkGroups"
        # The token endpoint answers this address before the guessing.
        status, _, _ = self.server.token(client)
        self.assertEqual(status, 200)
        # The demo's limit: 20 failures per minute per client and address.
        for _ in range(20):
            headers = sign(self.server.url, key_id, secret[::-1], target, body)
            status, text, _ = request(self.server.url + "/", "POST", body, headers)
            self.assertEqual(status, 403, text)
        # Now the correct secret at the token endpoint is refused from here
        # before it is checked, like a correct signature.
        status, answer, headers = self.server.token(client)
        self.assertEqual(status, 429, answer)
        self.assertIn("retry-after", headers)
        status, text, _ = request(self.server.url + "/", "POST", body,
                                  sign(self.server.url, key_id, secret, target, body))
        self.assertEqual(status, 400, text)
        self.assertEqual(json.loads(text)["__type"], "ThrottlingException")
