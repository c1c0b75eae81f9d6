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

import boto3
import botocore
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, request  # noqa: E402

FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


def aws_keys(server, client):
    with open(os.path.join(server.dir, "secrets", client + "-aws.json")) as f:
        keys = json.load(f)
    return keys["aws_access_key_id"], keys["aws_secret_access_key"]


def athena(server, client, region="us-east-1"):
    key_id, secret = aws_keys(server, client)
    return boto3.client("athena", endpoint_url=server.url, region_name=region,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def wait(client, qid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["Status"]["State"] in FINISHED:
            return execution
        time.sleep(0.05)
    raise AssertionError(f"{qid} did not finish")


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
