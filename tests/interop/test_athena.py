"""The Athena-compatible endpoint with boto3 (botocore's own Athena model).

Runs under the pinned virtual environment (scripts/python-venv.sh) through
tests/interop/venv_python.sh. Authenticates with a Bearer token added by a
botocore event hook (the endpoint accepts Bearer tokens as well as SigV4).
"""
import json
import os
import sys
import time
import unittest
import uuid

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Server, request  # noqa: E402

# Runs until the asynchronous timeout or a stop.
ENDLESS = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
           "SELECT max(n) FROM r")
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


def athena(server, client):
    token = server.access_token(client)
    c = boto3.client("athena", endpoint_url=server.url, region_name="us-east-1",
                     config=Config(signature_version=UNSIGNED,
                                   retries={"max_attempts": 1, "mode": "standard"}))

    def add_bearer(request, **_):
        request.headers["Authorization"] = "Bearer " + token

    c.meta.events.register("before-send.athena.*", add_bearer)
    return c


def wait(client, qid, states=FINISHED, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["Status"]["State"] in states:
            return execution
        time.sleep(0.05)
    raise AssertionError(f"{qid} did not reach {states}")


def run(client, sql, **kwargs):
    qid = client.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]
    return qid, wait(client, qid)


def values(row):
    return [d.get("VarCharValue") for d in row["Data"]]


class AthenaBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.etl = athena(cls.server, "etl-service")
        cls.dev = athena(cls.server, "reporting-service")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_start_wait_and_execution_shape(self):
        qid, execution = run(self.etl, "SELECT count(*) AS n FROM members",
                             QueryExecutionContext={"Database": "analytics",
                                                    "Catalog": "awsdatacatalog"},
                             WorkGroup="primary")
        self.assertEqual(execution["Status"]["State"], "SUCCEEDED")
        self.assertEqual(execution["StatementType"], "DML")
        self.assertEqual(execution["QueryExecutionContext"]["Database"], "analytics")
        self.assertTrue(execution["ResultConfiguration"]["OutputLocation"].startswith("s3://"))
        # botocore parsed the epoch-seconds number into a datetime.
        self.assertGreater(execution["Status"]["SubmissionDateTime"].year, 2000)
        self.assertIn("EngineExecutionTimeInMillis", execution["Statistics"])
        result = self.etl.get_query_results(QueryExecutionId=qid)
        columns = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        self.assertEqual([(c["Name"], c["Type"]) for c in columns], [("n", "bigint")])
        rows = result["ResultSet"]["Rows"]
        self.assertEqual([values(r) for r in rows], [["n"], ["1000"]])
        self.assertNotIn("NextToken", result)

    def test_types_and_null(self):
        qid, _ = run(self.etl, "SELECT member_id, name, lifetime_value, NULL AS missing, "
                               "1.5 AS ratio FROM members WHERE member_id = 1")
        result = self.etl.get_query_results(QueryExecutionId=qid)
        types = [c["Type"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        self.assertEqual(types, ["integer", "varchar", "double", "varchar", "double"])
        data = result["ResultSet"]["Rows"][1]["Data"]
        self.assertEqual(data[0], {"VarCharValue": "1"})
        self.assertEqual(data[3], {})  # NULL: no VarCharValue
        self.assertEqual(data[4], {"VarCharValue": "1.5"})
        for d in data[:3] + data[4:]:
            self.assertIsInstance(d["VarCharValue"], str)

    def test_paging_with_next_token(self):
        qid, execution = run(self.etl, "SELECT member_id FROM members ORDER BY member_id")
        self.assertEqual(execution["Status"]["State"], "SUCCEEDED")
        seen, token, first = [], None, True
        while True:
            kwargs = {"QueryExecutionId": qid, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = self.etl.get_query_results(**kwargs)
            rows = page["ResultSet"]["Rows"]
            self.assertLessEqual(len(rows), 1000)
            if first:
                self.assertEqual(values(rows[0]), ["member_id"])
                rows = rows[1:]
                first = False
            seen += [int(values(r)[0]) for r in rows]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, list(range(1, 1001)))

    def test_paging_with_a_paginator(self):
        qid, _ = run(self.etl, "SELECT member_id FROM members ORDER BY member_id")
        paginator = self.etl.get_paginator("get_query_results")
        seen, pages = [], 0
        for page in paginator.paginate(QueryExecutionId=qid,
                                       PaginationConfig={"PageSize": 250}):
            rows = page["ResultSet"]["Rows"]
            self.assertLessEqual(len(rows), 250)
            if pages == 0:
                self.assertEqual(values(rows[0]), ["member_id"])
                rows = rows[1:]
            for r in rows:
                self.assertNotEqual(values(r), ["member_id"])
            seen += [int(values(r)[0]) for r in rows]
            pages += 1
        self.assertEqual(seen, list(range(1, 1001)))
        self.assertEqual(pages, 5)  # 1001 rows with the header, 250 a page

    def test_stop_a_running_query(self):
        qid = self.etl.start_query_execution(QueryString=ENDLESS)["QueryExecutionId"]
        wait(self.etl, qid, states=("RUNNING",))
        self.etl.stop_query_execution(QueryExecutionId=qid)
        execution = wait(self.etl, qid, timeout=10)
        self.assertEqual(execution["Status"]["State"], "CANCELLED")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.etl.get_query_results(QueryExecutionId=qid)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_failed_query_has_a_reason(self):
        qid, execution = run(self.etl, "SELECT nope FROM members")
        self.assertEqual(execution["Status"]["State"], "FAILED")
        self.assertIn("nope", execution["Status"]["StateChangeReason"])
        self.assertEqual(execution["Status"]["AthenaError"]["ErrorCategory"], 2)

    def test_list_and_batch_get_own_executions_only(self):
        mine, _ = run(self.etl, "SELECT 1")
        theirs, _ = run(self.dev, "SELECT 2")
        ids = []
        for page in self.etl.get_paginator("list_query_executions").paginate(
                PaginationConfig={"PageSize": 5}):
            ids += page["QueryExecutionIds"]
        self.assertIn(mine, ids)
        self.assertNotIn(theirs, ids)
        batch = self.dev.batch_get_query_execution(QueryExecutionIds=[theirs, mine])
        self.assertEqual([e["QueryExecutionId"] for e in batch["QueryExecutions"]], [theirs])
        self.assertEqual([u["QueryExecutionId"] for u in batch["UnprocessedQueryExecutionIds"]],
                         [mine])

    def test_another_client_can_neither_read_nor_stop(self):
        qid = self.etl.start_query_execution(QueryString=ENDLESS)["QueryExecutionId"]
        try:
            wait(self.etl, qid, states=("RUNNING",))
            for call in (lambda: self.dev.get_query_execution(QueryExecutionId=qid),
                         lambda: self.dev.get_query_results(QueryExecutionId=qid),
                         lambda: self.dev.stop_query_execution(QueryExecutionId=qid)):
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    call()
                self.assertEqual(e.exception.response["Error"]["Code"],
                                 "InvalidRequestException")
                self.assertIn("was not found", e.exception.response["Error"]["Message"])
            self.assertEqual(wait(self.etl, qid, states=("RUNNING",))["Status"]["State"],
                             "RUNNING")
        finally:
            self.etl.stop_query_execution(QueryExecutionId=qid)
        done, _ = run(self.etl, "SELECT member_id FROM members")
        page = self.etl.get_query_results(QueryExecutionId=done, MaxResults=10)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.dev.get_query_results(QueryExecutionId=done, NextToken=page["NextToken"])

    def test_dev_role_never_sees_email(self):
        qid, _ = run(self.dev, "SELECT * FROM members LIMIT 3")
        result = self.dev.get_query_results(QueryExecutionId=qid)
        names = [c["Name"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        self.assertNotIn("email", names)
        self.assertIn("name", names)
        for row in result["ResultSet"]["Rows"]:
            for d in row["Data"]:
                self.assertNotIn("@", d.get("VarCharValue", ""))
        _, execution = run(self.dev, "SELECT email FROM members")
        self.assertEqual(execution["Status"]["State"], "FAILED")
        table = self.dev.get_table_metadata(CatalogName="AwsDataCatalog",
                                            DatabaseName="analytics",
                                            TableName="members")["TableMetadata"]
        self.assertNotIn("email", [c["Name"] for c in table["Columns"]])
        full = self.etl.get_table_metadata(CatalogName="AwsDataCatalog",
                                           DatabaseName="analytics",
                                           TableName="members")["TableMetadata"]
        columns = {c["Name"]: c["Type"] for c in full["Columns"]}
        self.assertEqual(columns["email"], "varchar")
        self.assertEqual(columns["member_id"], "integer")
        self.assertEqual(columns["lifetime_value"], "double")

    def test_catalog_metadata(self):
        catalogs = self.etl.list_data_catalogs()["DataCatalogsSummary"]
        self.assertEqual([c["CatalogName"] for c in catalogs], ["AwsDataCatalog"])
        databases = self.dev.list_databases(CatalogName="awsdatacatalog")["DatabaseList"]
        self.assertIn("analytics", [d["Name"] for d in databases])
        self.assertEqual(self.dev.get_database(CatalogName="AwsDataCatalog",
                                               DatabaseName="analytics")["Database"]["Name"],
                         "analytics")
        tables = self.dev.list_table_metadata(CatalogName="AwsDataCatalog",
                                              DatabaseName="analytics",
                                              Expression="mem*")["TableMetadataList"]
        self.assertEqual([t["Name"] for t in tables], ["members"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.dev.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="analytics",
                                        TableName="nope")
        self.assertEqual(e.exception.response["Error"]["Code"], "MetadataException")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.dev.list_databases(CatalogName="other")
        self.assertEqual(e.exception.response["Error"]["Code"], "MetadataException")
        groups = self.dev.list_work_groups()["WorkGroups"]
        self.assertEqual([g["Name"] for g in groups], ["primary"])
        self.assertEqual(self.dev.get_work_group(WorkGroup="primary")["WorkGroup"]["State"],
                         "ENABLED")

    def test_execution_parameters_and_idempotency(self):
        token = str(uuid.uuid4())
        first = self.etl.start_query_execution(
            QueryString="SELECT member_id, name FROM members WHERE member_id = ? AND name <> ?",
            ExecutionParameters=["7", "'it''s'"], ClientRequestToken=token)["QueryExecutionId"]
        again = self.etl.start_query_execution(
            QueryString="SELECT member_id, name FROM members WHERE member_id = ? AND name <> ?",
            ExecutionParameters=["7", "'it''s'"], ClientRequestToken=token)["QueryExecutionId"]
        self.assertEqual(first, again)
        wait(self.etl, first)
        rows = self.etl.get_query_results(QueryExecutionId=first)["ResultSet"]["Rows"]
        self.assertEqual(len(rows), 2)
        self.assertEqual(values(rows[1])[0], "7")

    def test_json_protocol_with_x_amz_target(self):
        """The awsJson1_1 protocol (older SDKs, the JDBC/ODBC drivers): POST / with
        X-Amz-Target, the same operations and shapes."""
        token = self.server.access_token("etl-service")

        def call(op, body):
            status, data, headers = request(
                self.server.url + "/", "POST", json.dumps(body).encode(),
                {"Authorization": "Bearer " + token, "X-Amz-Target": "AmazonAthena." + op,
                 "Content-Type": "application/x-amz-json-1.1"})
            return status, json.loads(data), headers

        status, started, _ = call("StartQueryExecution",
                                  {"QueryString": "SELECT count(*) AS n FROM members"})
        self.assertEqual(status, 200, started)
        qid = started["QueryExecutionId"]
        for _ in range(600):
            _, got, _ = call("GetQueryExecution", {"QueryExecutionId": qid})
            if got["QueryExecution"]["Status"]["State"] == "SUCCEEDED":
                break
            time.sleep(0.05)
        self.assertIsInstance(got["QueryExecution"]["Status"]["SubmissionDateTime"], float)
        status, results, headers = call("GetQueryResults", {"QueryExecutionId": qid})
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
        self.assertEqual([values(r) for r in results["ResultSet"]["Rows"]], [["n"], ["1000"]])
        status, error, headers = call("NoSuchOperation", {})
        self.assertEqual(status, 400)
        self.assertEqual(error["__type"], "UnknownOperationException")
        self.assertEqual(headers["x-amzn-errortype"], "UnknownOperationException")
        status, error, _ = call("GetQueryResults", {"QueryExecutionId": qid, "MaxResults": 1001})
        self.assertEqual((status, error["__type"]), (400, "InvalidRequestException"))

    def test_error_shapes(self):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.etl.get_query_results(QueryExecutionId=str(uuid.uuid4()), MaxResults=1000)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        bad = boto3.client("athena", endpoint_url=self.server.url, region_name="us-east-1",
                           config=Config(signature_version=UNSIGNED,
                                         retries={"max_attempts": 1, "mode": "standard"}))
        bad.meta.events.register(
            "before-send.athena.*",
            lambda request, **_: request.headers.__setitem__("Authorization", "Bearer x.y.z"))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            bad.list_work_groups()
        self.assertEqual(e.exception.response["Error"]["Code"], "UnrecognizedClientException")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 401)

    def test_url_bytes_that_are_not_utf8_are_a_client_error(self):
        token = self.server.access_token("reporting-service")
        for target in ("/workgroups?x=%FF", "/query-executions/%C0%AF",
                       "/data-catalogs/AwsDataCatalog/databases/%ED%A0%80"):
            status, body, _ = request(self.server.url + target,
                                      headers={"Authorization": "Bearer " + token})
            self.assertEqual(status, 400, (target, body))
            self.assertEqual(json.loads(body)["__type"], "InvalidRequestException")
        # The server is still there and answers the same client.
        status, body, _ = request(self.server.url + "/workgroups",
                                  headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
