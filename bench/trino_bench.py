"""Measures lakegate governing Trino (run by bench/trino_bench.sh).

Two Trino clusters hold the same demo table: GOVERNED (OPA access control and
JWT authentication pointed at lakegate) and OPEN (no access control). The
same query mix runs on both, alternating round by round so both see the same
machine load; meanwhile a second thread posts typical decision requests to
lakegate's /trino/opa endpoints over one kept-alive connection (as Trino's
OPA client does) and records their latency.

Prints RESULT lines: per query and client the decisions Trino asked lakegate
for (counted by lakegate, /metrics), how many lakegate computed rather than
answered from its cache, and lakegate's mean time per decision;
per query and client the p50 and the fastest run on each cluster and their
ratios, per client the geometric mean of the ratios over the mix, and the
decision latency p50/p99 (ms) while the mix ran: as this script's client
saw it, and as lakegate timed all decisions (its latency histogram).
"""
import http.client
import json
import math
import os
import statistics
import sys
import threading
import time
import urllib.request

import trino
from trino.auth import JWTAuthentication

GOVERNED, OPEN, LAKEGATE, DEMO_DIR, TRINO_DIR = sys.argv[1:6]
ROUNDS = int(os.environ.get("ROUNDS", "30"))
# C2 compiles a method after thousands of calls: the full JIT needs more.
WARMUP = int(os.environ.get("WARMUP", "40" if os.environ.get("JIT", "full") == "full" else "3"))
# requests lets these override a session's own CA file.
for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(var, None)

# lf-super-user-role (no filters or masks), lf-dev-role (one unreadable
# column), lf-analyst-role (cell filters, masks, tags).
CLIENTS = ("etl-service", "reporting-service", "analytics-service")
QUERIES = {
    "count": "SELECT count(*) FROM members",
    "group_by_region": "SELECT region, count(*), avg(lifetime_value) FROM members GROUP BY region",
    "point": "SELECT * FROM members WHERE member_id = 421",
    "top10": "SELECT member_id, name, lifetime_value FROM members ORDER BY lifetime_value DESC LIMIT 10",
    "scan_filter": "SELECT count(*) FROM members WHERE tier = 'gold' AND joined_on >= '2020-01-01'",
}


def secret(client):
    with open(os.path.join(DEMO_DIR, "secrets", client + ".json")) as f:
        return json.load(f)


def token(client):
    s = secret(client)
    import base64
    import urllib.parse
    basic = base64.b64encode(f"{s['client_id']}:{s['client_secret']}".encode()).decode()
    req = urllib.request.Request(LAKEGATE + "/oauth2/token",
                                 data=b"grant_type=client_credentials",
                                 headers={"Authorization": "Basic " + basic,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["access_token"]


def connect(url, user, tok=None):
    scheme, rest = url.split("://", 1)
    host, port = rest.split(":")
    kwargs = dict(host=host, port=int(port), user=user, http_scheme=scheme,
                  catalog="lake", schema="analytics")
    if tok:
        kwargs.update(auth=JWTAuthentication(tok), verify=os.path.join(TRINO_DIR, "tls", "ca.pem"))
    return trino.dbapi.connect(**kwargs)


def run(conn, sql):
    t0 = time.perf_counter()
    cur = conn.cursor()
    cur.execute(sql)
    cur.fetchall()
    return (time.perf_counter() - t0) * 1000


def decision_bodies(user):
    ctx = {"identity": {"user": user, "groups": []}, "softwareStack": {"trinoVersion": "476"}}
    table = {"catalogName": "lake", "schemaName": "analytics", "tableName": "members"}
    cols = ["member_id", "name", "email", "region", "tier", "joined_on", "lifetime_value"]
    types = ["bigint", "varchar", "varchar", "varchar", "varchar", "varchar", "double"]
    return [
        ("allow", {"input": {"context": ctx, "action": {"operation": "ExecuteQuery"}}}),
        ("allow", {"input": {"context": ctx, "action": {
            "operation": "SelectFromColumns", "resource": {"table": {**table, "columns": cols[:2]}}}}}),
        ("batch", {"input": {"context": ctx, "action": {
            "operation": "FilterColumns", "filterResources": [{"table": {**table, "columns": cols}}]}}}),
        ("row-filters", {"input": {"context": ctx, "action": {
            "operation": "GetRowFilters", "resource": {"table": table}}}}),
        ("column-masks", {"input": {"context": ctx, "action": {
            "operation": "GetColumnMask", "filterResources": [
                {"column": {**table, "columnName": c, "columnType": t}} for c, t in zip(cols, types)]}}}),
    ]


def analyst_masks(key, body):
    """SELECT of the members columns with the analyst's masks, as lakegate answers them."""
    req = urllib.request.Request(f"{LAKEGATE}/trino/opa/column-masks?key={key}", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        answer = json.load(r)["result"]
    cols = ["member_id", "name", "email", "region", "tier", "joined_on", "lifetime_value"]
    exprs = {m["index"]: m["viewExpression"]["expression"] for m in answer}
    # email: the analyst may not read it (no mask); the queries never name it.
    quote = lambda c: '"' + c + '"'
    return "SELECT " + ", ".join(exprs.get(i, quote(c)) + " AS " + quote(c)
                                 for i, c in enumerate(cols) if c != "email") + " FROM members"


def decision_metrics():
    """lakegate's request count and summed seconds over its /trino/opa routes,
    and the answers it computed (not from its cache; None when it does not
    count them)."""
    with urllib.request.urlopen(LAKEGATE + "/metrics", timeout=10) as r:
        text = r.read().decode()
    count = seconds = 0.0
    computed = None  # a lakegate without the counter (LAKEGATE=older build)
    for line in text.splitlines():
        if line.startswith("lakegate_trino_decisions_total{") and 'answer="computed"' in line:
            computed = (computed or 0.0) + float(line.rsplit(" ", 1)[1])
        if 'route="/trino/opa/' not in line:
            continue
        if line.startswith("lakegate_http_request_duration_seconds_count"):
            count += float(line.rsplit(" ", 1)[1])
        elif line.startswith("lakegate_http_request_duration_seconds_sum"):
            seconds += float(line.rsplit(" ", 1)[1])
    return count, seconds, computed


def decision_buckets():
    """lakegate's cumulative latency buckets (le -> count) over its /trino/opa
    routes: every decision, Trino's and the benchmark's own."""
    with urllib.request.urlopen(LAKEGATE + "/metrics", timeout=10) as r:
        text = r.read().decode()
    buckets = {}
    for line in text.splitlines():
        if (line.startswith("lakegate_http_request_duration_seconds_bucket{")
                and 'route="/trino/opa/' in line):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[le] = buckets.get(le, 0) + float(line.rsplit(" ", 1)[1])
    return buckets


def bucket_quantile(before, after, q):
    """The upper bound (ms) of the bucket holding quantile q of the requests
    between two decision_buckets() readings."""
    bounds = sorted((float(le), after[le] - before.get(le, 0)) for le in after if le != "+Inf")
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    for bound, count in bounds:
        if total and count >= q * total:
            return f"{bound * 1000:g}"
    return ">" + f"{bounds[-1][0] * 1000:g}" if bounds else "n/a"


def difference(after, before):
    return "n/a" if after is None else f"{after - (before or 0):.0f}"


def explain(conn, sql):
    cur = conn.cursor()
    cur.execute("EXPLAIN " + sql)
    return [line for row in cur.fetchall() for line in row[0].splitlines()]


def main():
    key = open(os.path.join(TRINO_DIR, "opa-secret")).read().strip()
    analyst = secret("analytics-service")["client_id"]
    bodies = [(kind, json.dumps(b).encode()) for kind, b in decision_bodies(analyst)]
    stop = threading.Event()
    latencies = []

    def decide():
        host, port = LAKEGATE.split("://", 1)[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        i = 0
        while not stop.is_set():
            kind, body = bodies[i % len(bodies)]
            i += 1
            t0 = time.perf_counter()
            conn.request("POST", f"/trino/opa/{kind}?key={key}", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.002)
        conn.close()

    governed = {c: connect(GOVERNED, secret(c)["client_id"], token(c))
                for c in CLIENTS}
    open_conn = connect(OPEN, "bench")
    # The analyst's view written out by hand on the open cluster: the masks
    # lakegate hands Trino, inline. open -> inline is what evaluating the
    # expressions costs; inline -> governed analyst is Trino's access-control
    # machinery (decision round trips, analyzing the masks).
    masks = analyst_masks(key, dict(bodies)["column-masks"])
    inline = {name: sql.replace("FROM members", f"FROM ({masks}) members")
              for name, sql in QUERIES.items()}
    print("INLINE " + masks)
    # Warm-up: plans, caches, JIT.
    for _ in range(WARMUP):
        for name, sql in QUERIES.items():
            run(open_conn, sql)
            run(open_conn, inline[name])
            for c in governed.values():
                run(c, sql)
    # Decisions per query, counted by lakegate (nothing else asks meanwhile).
    for name, sql in QUERIES.items():
        for c, conn in governed.items():
            n0, s0, c0 = decision_metrics()
            for _ in range(3):
                run(conn, sql)
            n1, s1, c1 = decision_metrics()
            n = n1 - n0
            print(f"RESULT decisions_per_query query={name} client={c} per_query={n / 3:.1f} "
                  f"computed={difference(c1, c0)} "
                  f"lakegate_mean_us={(s1 - s0) / n * 1e6 if n else 0:.0f}")
    for line in explain(governed["analytics-service"], QUERIES["scan_filter"]):
        print("EXPLAIN " + line)
    who_all = ("open", "open-inline-masks") + CLIENTS
    times = {(name, who): [] for name in QUERIES for who in who_all}
    n0, _, c0 = decision_metrics()
    b0 = decision_buckets()
    thread = threading.Thread(target=decide, daemon=True)
    thread.start()
    for _ in range(ROUNDS):
        for name, sql in QUERIES.items():
            times[(name, "open")].append(run(open_conn, sql))
            times[(name, "open-inline-masks")].append(run(open_conn, inline[name]))
            for c, conn in governed.items():
                times[(name, c)].append(run(conn, sql))
    stop.set()
    thread.join()
    n1, _, c1 = decision_metrics()
    b1 = decision_buckets()
    # Trino asks the same questions for every query: a steady mix is answered
    # from lakegate's cache.
    print(f"RESULT decision_cache decisions={n1 - n0:.0f} computed={difference(c1, c0)}")
    # Every decision of the mix (Trino's and this script's) as lakegate timed
    # it, request read to answer written: the bucket bounds holding p50, p99.
    print(f"RESULT decisions_in_lakegate p50_ms_at_most={bucket_quantile(b0, b1, 0.5)} "
          f"p99_ms_at_most={bucket_quantile(b0, b1, 0.99)}")
    # Per query: p50 and the fastest run (the least disturbed by the other
    # work on the machine) on each side; per client: the geometric mean of the
    # ratios over the mix.
    compared = ("open-inline-masks",) + CLIENTS
    logs = {who: {"p50": [], "min": []} for who in compared}
    for name in QUERIES:
        base = statistics.median(times[(name, "open")])
        base_min = min(times[(name, "open")])
        for who in compared:
            gov = statistics.median(times[(name, who)])
            gov_min = min(times[(name, who)])
            logs[who]["p50"].append(math.log(gov / base))
            logs[who]["min"].append(math.log(gov_min / base_min))
            print(f"RESULT query={name} client={who} open_p50_ms={base:.1f} governed_p50_ms={gov:.1f} "
                  f"ratio={gov / base:.2f} open_min_ms={base_min:.1f} governed_min_ms={gov_min:.1f} "
                  f"min_ratio={gov_min / base_min:.2f}")
    for who in compared:
        g = lambda xs: math.exp(sum(xs) / len(xs))
        print(f"RESULT mix client={who} geomean_ratio={g(logs[who]['p50']):.2f} "
              f"geomean_min_ratio={g(logs[who]['min']):.2f}")
    # Warm enough? The p50 of the first and the second half of the rounds
    # (geometric mean over the mix): a JIT still compiling shows a drop.
    half = ROUNDS // 2
    for who in who_all if half >= 2 else ():
        g = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
        first = g([statistics.median(times[(n, who)][:half]) for n in QUERIES])
        second = g([statistics.median(times[(n, who)][half:]) for n in QUERIES])
        print(f"RESULT settle client={who} first_half_p50_ms={first:.1f} second_half_p50_ms={second:.1f}")
    lat = sorted(latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"RESULT decisions n={len(lat)} p50_ms={p(0.5):.3f} p99_ms={p(0.99):.3f}")


if __name__ == "__main__":
    main()
