"""Soak: a mixed load against a `lakegate demo` server for a fixed time, while
the server's resident memory, open file descriptors and threads are sampled
from /proc every few seconds. Prints the series and the growth; with --check,
exits 1 when a resource grew beyond its bound.

The load (loopback only, all started and stopped here):
  tokens      client_credentials for the demo clients, and some wrong secrets
  queries     direct (etl), governed (reporting), filtered and masked
              (analytics), CSV/NDJSON, bad SQL, a timeout-bound runaway
  admin       grant/revoke over the admin API; client create/delete and key
              rotation through the CLI
  slow        clients that dribble a request header and give up
  disconnects clients that ask for a large result and hang up mid-stream

A warm-up with the same load (a quarter of the run, at most 15 s) fills the
caches and pools to their bounds first. Growth is then judged on what should
be flat in a healthy server:
  RSS         the median of the last quarter of samples against the median of
              the first quarter
  fds/threads with the load stopped and its connections closed, against the
              same after the warm-up
Run by bench/soak.sh; Python stdlib only.
"""
import argparse
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

URL_RE = re.compile(r"(?:running at|listening on) (https?://\S+)")


def proc_sample(pid):
    """(rss_kb, fds, threads) of process `pid`."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds, threads


class Demo:
    def __init__(self, binary, directory):
        self.binary = binary
        self.dir = directory
        self.proc = None
        self.url = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "demo", "--dir", self.dir, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        for line in self.proc.stdout:
            m = URL_RE.search(line)
            if m:
                self.url = m.group(1).rstrip("/")
                break
            if time.time() > deadline:
                break
        if not self.url:
            self.stop()
            raise SystemExit("soak: the demo server did not start")
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def secret(self, client):
        with open(os.path.join(self.dir, "secrets", client + ".json")) as f:
            return json.load(f)

    def cli(self, *args):
        return subprocess.run([self.binary, *args, "--config", os.path.join(self.dir, "stack.yaml")],
                              capture_output=True, text=True, timeout=60)


class Load:
    CLIENTS = ["etl-service", "reporting-service", "monitoring-service", "analytics-service"]

    def __init__(self, demo):
        self.demo = demo
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {}
        self.creds = {c: demo.secret(c) for c in self.CLIENTS}
        self.tokens = {}

    def count(self, kind, status):
        key = f"{kind}:{status}"
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    def conn(self, timeout=30):
        return http.client.HTTPConnection(self.demo.host, self.demo.port, timeout=timeout)

    def call(self, conn, method, path, body=None, headers=None):
        conn.request(method, path, body, headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()

    @staticmethod
    def basic(client_id, secret):
        raw = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
        return "Basic " + base64.b64encode(raw.encode()).decode()

    def token(self, conn, client, secret=None):
        creds = self.creds[client]
        status, data = self.call(
            conn, "POST", "/oauth2/token", "grant_type=client_credentials",
            {"Content-Type": "application/x-www-form-urlencoded",
             "Authorization": self.basic(creds["client_id"], secret or creds["client_secret"])})
        return status, (json.loads(data).get("access_token") if status == 200 else None)

    def bearer(self, conn, client):
        token = self.tokens.get(client)
        if token is None:
            status, token = self.token(conn, client)
            if status != 200:
                return None
            self.tokens[client] = token
        return token

    def query(self, conn, client, sql, fmt=None):
        body = {"query": sql}
        if fmt:
            body["format"] = fmt
        token = self.bearer(conn, client)
        status, _ = self.call(conn, "POST", "/v1/query", json.dumps(body),
                              {"Authorization": "Bearer " + str(token),
                               "Content-Type": "application/json"})
        return status

    def loop(self, kind, step, pause=0.0):
        rng = random.Random(hash(kind))
        conn = self.conn()
        while not self.stop.is_set():
            try:
                status = step(conn, rng)
                self.count(kind, status)
            except (OSError, http.client.HTTPException) as e:
                self.count(kind, type(e).__name__)
                conn.close()
                conn = self.conn()
            if pause:
                self.stop.wait(pause)
        conn.close()

    # --- the parts of the load ---------------------------------------------
    def tokens_step(self, conn, rng):
        return self.token(conn, rng.choice(self.CLIENTS))[0]

    def mistake_step(self, conn, rng):
        # An honest mistake every few seconds (below every failure limit).
        return self.token(conn, rng.choice(self.CLIENTS), secret="wrong")[0]

    QUERIES = [
        ("etl-service", "SELECT region, count(*), avg(lifetime_value) FROM members GROUP BY region", None),
        ("etl-service", "SELECT * FROM members WHERE member_id BETWEEN 10 AND 60", "csv"),
        ("reporting-service", "SELECT member_id, name, tier FROM members LIMIT 200", None),
        ("reporting-service", "SELECT tier, count(*) FROM members GROUP BY tier", "ndjson"),
        ("analytics-service", "SELECT * FROM members", None),
        ("monitoring-service", "SELECT count(*) FROM members", None),
        ("reporting-service", "SELECT email FROM members", None),  # 403: not granted
        ("etl-service", "SELEC 1", None),  # 400
    ]

    def queries_step(self, conn, rng):
        client, sql, fmt = rng.choice(self.QUERIES)
        return self.query(conn, client, sql, fmt)

    def runaway_step(self, conn, rng):
        # Bound by the query timeout (30 s in the demo) only if nothing else
        # stops it: ask for few rows of an endless CTE, which ends at once,
        # and now and then a long scan.
        sql = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 200000) "
               "SELECT count(*) FROM r")
        return self.query(conn, "etl-service", sql)

    def admin_step(self, conn, rng):
        token = self.bearer(conn, "etl-service")
        grant = {"role": "lf-dev-role", "database": "analytics", "table": "members",
                 "permissions": ["SELECT"], "columns": {"include": ["email"]}}
        headers = {"Authorization": "Bearer " + str(token), "Content-Type": "application/json"}
        status, _ = self.call(conn, "POST", "/v1/admin/grant", json.dumps(grant), headers)
        self.count("admin_grant", status)
        status, _ = self.call(conn, "POST", "/v1/admin/revoke", json.dumps(grant), headers)
        return status

    def cli_loop(self):
        n = 0
        while not self.stop.wait(5):
            name = f"soak-{n}"
            r = self.demo.cli("client", "create", name, "--scope", "athena-api/query.read")
            self.count("cli_create", r.returncode)
            r = self.demo.cli("client", "delete", name, "--yes")
            self.count("cli_delete", r.returncode)
            if n % 4 == 3:
                r = self.demo.cli("key", "rotate")
                self.count("cli_key_rotate", r.returncode)
            n += 1

    def slow_loop(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection((self.demo.host, self.demo.port), timeout=10)
                for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ":
                    s.send(bytes([ch]))
                    if self.stop.wait(0.05):
                        break
                s.close()  # gives up before finishing the header
                self.count("slow", "closed")
            except OSError as e:
                self.count("slow", type(e).__name__)

    def disconnect_loop(self):
        body = json.dumps({"query": "SELECT a.*, b.member_id AS m2 FROM members a, members b "
                                    "WHERE b.member_id <= 20", "format": "ndjson"}).encode()
        while not self.stop.is_set():
            try:
                token = self.tokens.get("etl-service")
                if token is None:
                    conn = self.conn()
                    token = self.bearer(conn, "etl-service")
                    conn.close()
                s = socket.create_connection((self.demo.host, self.demo.port), timeout=10)
                s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Authorization: Bearer " + str(token).encode() +
                          b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                s.recv(4096)  # the first bytes of the stream, then hang up
                s.close()
                self.count("disconnect", "closed")
            except OSError as e:
                self.count("disconnect", type(e).__name__)
            self.stop.wait(0.1)

    def threads(self):
        parts = [
            threading.Thread(target=self.loop, args=("token", self.tokens_step)),
            threading.Thread(target=self.loop, args=("token", self.tokens_step)),
            threading.Thread(target=self.loop, args=("mistake", self.mistake_step, 2.0)),
            threading.Thread(target=self.loop, args=("query", self.queries_step)),
            threading.Thread(target=self.loop, args=("query", self.queries_step)),
            threading.Thread(target=self.loop, args=("query", self.queries_step)),
            threading.Thread(target=self.loop, args=("runaway", self.runaway_step, 0.5)),
            threading.Thread(target=self.loop, args=("admin_revoke", self.admin_step, 1.0)),
            threading.Thread(target=self.cli_loop),
            threading.Thread(target=self.slow_loop),
            threading.Thread(target=self.slow_loop),
            threading.Thread(target=self.disconnect_loop),
        ]
        return parts


def settle(pid, seconds=20):
    """Waits (bounded) until the fd count has not fallen for 3 s: the load's
    connections closing on the server's side."""
    deadline = time.time() + seconds
    last = proc_sample(pid)
    steady = 0
    while time.time() < deadline and steady < 3:
        time.sleep(1)
        now = proc_sample(pid)
        steady = steady + 1 if now[1] >= last[1] else 0
        last = now
    return last


def fd_kinds(pid):
    """How many of the open fds are sockets, files, pipes, ... (for a report)."""
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target else target
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def run_load(demo, seconds, counts, sample=None, interval=5.0):
    """Runs the whole mixed load for `seconds`, calling sample(elapsed) every
    `interval`; adds the outcomes to `counts`; returns once every load thread
    has stopped (their connections closed)."""
    load = Load(demo)
    threads = load.threads()
    for t in threads:
        t.start()
    started = time.time()
    try:
        while time.time() - started < seconds:
            time.sleep(min(interval, max(0.0, seconds - (time.time() - started))))
            if sample:
                sample(time.time() - started)
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
        for key, value in load.counts.items():
            counts[key] = counts.get(key, 0) + value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=600, help="load duration (default 600)")
    ap.add_argument("--interval", type=float, default=5, help="seconds between samples")
    ap.add_argument("--binary", default=os.environ.get("LAKEGATE_BIN", "lakegate"))
    ap.add_argument("--check", action="store_true", help="exit 1 when growth exceeds the bounds")
    ap.add_argument("--max-rss-growth-kb", type=int, default=16384)
    ap.add_argument("--max-fd-growth", type=int, default=4)
    ap.add_argument("--max-thread-growth", type=int, default=0)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="lakegate-soak-")
    demo = Demo(args.binary, os.path.join(work, "demo"))
    try:
        demo.start()
        pid = demo.proc.pid
        # Warm-up: the same load for a while, so that caches and pools
        # (sessions per role, prepared statements, verified tokens) fill to
        # their bounds before the baseline is taken.
        warmup = min(15.0, max(2.0, args.seconds / 4))
        counts = {}
        run_load(demo, warmup, counts)
        before = settle(pid)
        print(f"soak: {demo.url} pid {pid}, {args.seconds} s of load after {warmup:g} s of "
              f"warm-up, sample every {args.interval:g} s", flush=True)
        print(f"idle before: rss {before[0]} kB, fds {before[1]}, threads {before[2]}", flush=True)
        print("fds before:", json.dumps(fd_kinds(pid)), flush=True)
        print("   t(s)  rss(kB)   fds  threads", flush=True)

        samples = []

        def sample(elapsed):
            if demo.proc.poll() is not None:
                raise SystemExit(f"soak: the server exited ({demo.proc.returncode}) under load")
            rss, fds, nthreads = proc_sample(pid)
            samples.append((elapsed, rss, fds, nthreads))
            print(f"{elapsed:7.0f} {rss:8d} {fds:5d} {nthreads:8d}", flush=True)

        run_load(demo, args.seconds, counts, sample, args.interval)
        after = settle(pid)
        print(f"idle after:  rss {after[0]} kB, fds {after[1]}, threads {after[2]}")
        print("fds after:", json.dumps(fd_kinds(pid)))
        print("requests:", json.dumps(dict(sorted(counts.items()))))

        quarter = max(1, len(samples) // 4)
        early = statistics.median(s[1] for s in samples[:quarter])
        late = statistics.median(s[1] for s in samples[-quarter:])
        growth = {"rss_kb": int(late - early), "fds": after[1] - before[1],
                  "threads": after[2] - before[2],
                  "rss_peak_kb": max(s[1] for s in samples)}
        print("growth:", json.dumps(growth))
        served = sum(v for k, v in counts.items() if k.endswith(":200"))
        problems = []
        if served == 0:
            problems.append("no request succeeded")
        if growth["rss_kb"] > args.max_rss_growth_kb:
            problems.append(f"RSS grew {growth['rss_kb']} kB (bound {args.max_rss_growth_kb})")
        if growth["fds"] > args.max_fd_growth:
            problems.append(f"open fds grew {growth['fds']} (bound {args.max_fd_growth})")
        if growth["threads"] > args.max_thread_growth:
            problems.append(f"threads grew {growth['threads']} (bound {args.max_thread_growth})")
        if args.check and problems:
            print("soak: FAILED: " + "; ".join(problems), file=sys.stderr)
            return 1
        print("soak: ok" if not problems else "soak: over the bounds: " + "; ".join(problems))
        return 0
    finally:
        demo.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
