#!/usr/bin/python3
"""Time for a revocation made on one node to take effect on another.

For each of N rounds: node A issues a token to CLIENT, node B accepts it on
the query API, the token is revoked on node A (RFC 7009), and node B is polled
back to back with that token until it answers 401. The time from A's answer
to the revocation (the write is committed) to B's first 401 is one sample;
the time from sending the revocation is reported too.

Usage: revocation_propagation.py A_URL B_URL SECRETS_JSON [--rounds N]
Prints one line per percentile and a final RESULT line (milliseconds).
Standard library only; every wait is bounded."""
import argparse
import base64
import json
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

POLL_LIMIT_S = 5.0


def call(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("secrets")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    with open(args.secrets) as f:
        creds = json.load(f)
    basic = "Basic " + base64.b64encode(("%s:%s" % (
        urllib.parse.quote(creds["client_id"], safe=""),
        urllib.parse.quote(creds["client_secret"], safe=""))).encode()).decode()
    form = {"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"}
    query = json.dumps({"query": "SELECT 1 AS x"}).encode()

    def run_on_b(token):
        return call(args.b + "/v1/query", query, {"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})[0]

    from_ack, from_send, polls = [], [], []
    for i in range(args.rounds):
        status, body = call(args.a + "/oauth2/token",
                            b"grant_type=client_credentials", form)
        if status != 200:
            sys.exit("token request on A failed: %d %s" % (status, body[:200]))
        token = json.loads(body)["access_token"]
        if run_on_b(token) != 200:
            sys.exit("node B did not accept a fresh token of node A")
        sent = time.monotonic()
        status, body = call(args.a + "/oauth2/revoke",
                            urllib.parse.urlencode({"token": token}).encode(), form)
        acked = time.monotonic()
        if status != 200:
            sys.exit("revocation on A failed: %d %s" % (status, body[:200]))
        n = 0
        while True:
            n += 1
            code = run_on_b(token)
            now = time.monotonic()
            if code == 401:
                break
            if now - sent > POLL_LIMIT_S:
                sys.exit("round %d: node B still accepts the revoked token after %.1f s"
                         % (i, POLL_LIMIT_S))
        from_ack.append((now - acked) * 1000)
        from_send.append((now - sent) * 1000)
        polls.append(n)
    for name, values in (("from revocation answered", from_ack),
                         ("from revocation sent", from_send)):
        print("%-26s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  mean %7.1f ms" % (
            name, percentile(values, 50), percentile(values, 99), max(values),
            statistics.mean(values)))
    print("RESULT rounds=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f p50_sent_ms=%.1f "
          "p99_sent_ms=%.1f mean_polls=%.1f" % (
              args.rounds, percentile(from_ack, 50), percentile(from_ack, 99), max(from_ack),
              percentile(from_send, 50), percentile(from_send, 99), statistics.mean(polls)))


if __name__ == "__main__":
    main()
