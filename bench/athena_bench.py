"""Athena endpoint benchmark (stdlib only; driven by bench/athena_bench.sh).

  latency URL TOKEN N       StartQueryExecution -> SUCCEEDED for a small query, N times:
                            GetQueryExecution is polled back to back on one keep-alive
                            connection, so the figure is the server's, not a sleep's.
  paging URL TOKEN ROWS     one query of ROWS generated rows, then GetQueryResults pages
                            of 1,000 with NextToken until the end: rows/s of the paging.
Prints one RESULT line of name=value pairs.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


class Athena:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        self.token = token

    def call(self, op, body):
        self.conn.request("POST", "/", json.dumps(body), {
            "Authorization": "Bearer " + self.token,
            "X-Amz-Target": "AmazonAthena." + op,
            "Content-Type": "application/x-amz-json-1.1"})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{op}: {resp.status} {data[:200]!r}")
        return json.loads(data)

    def run(self, sql):
        start = time.perf_counter()
        qid = self.call("StartQueryExecution", {"QueryString": sql})["QueryExecutionId"]
        while True:
            state = self.call("GetQueryExecution", {"QueryExecutionId": qid})[
                "QueryExecution"]["Status"]["State"]
            if state == "SUCCEEDED":
                return qid, time.perf_counter() - start
            if state in ("FAILED", "CANCELLED"):
                raise RuntimeError(f"{qid} {state}")


def latency(url, token, n):
    athena = Athena(url, token)
    for _ in range(20):  # warm-up
        athena.run("SELECT member_id, name FROM members WHERE member_id = 7")
    samples = sorted(athena.run("SELECT member_id, name FROM members WHERE member_id = 7")[1]
                     for _ in range(n))
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] * 1000
    print(f"RESULT n={n} p50_ms={p(0.50):.2f} p90_ms={p(0.90):.2f} p99_ms={p(0.99):.2f} "
          f"mean_ms={statistics.mean(samples) * 1000:.2f}")


def paging(url, token, rows):
    athena = Athena(url, token)
    sql = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < %d) "
           "SELECT n AS id, 'member ' || n AS name, n * 1.5 AS value FROM r" % rows)
    qid, run_s = athena.run(sql)
    start = time.perf_counter()
    seen, pages, token_ = 0, 0, None
    while True:
        body = {"QueryExecutionId": qid, "MaxResults": 1000}
        if token_:
            body["NextToken"] = token_
        page = athena.call("GetQueryResults", body)
        seen += len(page["ResultSet"]["Rows"])
        pages += 1
        token_ = page.get("NextToken")
        if not token_:
            break
    elapsed = time.perf_counter() - start
    data_rows = seen - 1  # the header row
    assert data_rows == rows, (data_rows, rows)
    print(f"RESULT rows={data_rows} pages={pages} query_s={run_s:.2f} paging_s={elapsed:.2f} "
          f"rows_per_s={data_rows / elapsed:.0f}")


if __name__ == "__main__":
    mode, url, token, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    {"latency": latency, "paging": paging}[mode](url, token, n)
