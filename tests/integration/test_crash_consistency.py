"""Crash consistency: SIGKILL at random points during bursts of writes.

Each round starts `lakegate demo` on the same directory, runs a burst of writes
at once — CLI processes (client create and rotate-secret, key rotate, grant,
revoke, load) and, against the server, token revocations and admin-API grants —
then SIGKILLs the server and every CLI process still running after a random
delay, and restarts. After every restart it checks that

  * the server starts (on the state the kill left behind);
  * every acknowledged write is there: the CLI exited 0 or the API answered 200
    before the kill (a created or rotated client's last acknowledged secret
    gets a token, a rotated key is in the JWKS, a granted role has its grant
    and a revoked one has none, a revoked token is inactive, a loaded table
    has every row);
  * nothing is half applied, acknowledged or not: every client has a secret
    hash and scopes, every policy version is a whole JSON document, every key
    has its private key, every secret file is whole JSON (mode 0600), a loaded
    table has all its rows or does not exist, and the SQLite files pass
    integrity_check.

Seeded (LAKEGATE_CRASH_SEED, default 14; printed on failure) and bounded
(LAKEGATE_CRASH_ROUNDS rounds, default 20; each kill within
LAKEGATE_CRASH_WINDOW seconds of its burst's start, default 0.6). The state
store is selectable: the demo's SQLite store, or the store named by
LAKEGATE_CRASH_STATE=<store URL> (the demo gets `--state URL`, the CLI
LAKEGATE_STATE_URL; CTest integration.crash_consistency_postgres runs it on a
fresh PostgreSQL database). The raw checks of the state store read SQLite
directly, or PostgreSQL through psql.
"""
import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from harness import LAKEGATE, Server, basic, get_json, post_form, request


SEED = int(os.environ.get("LAKEGATE_CRASH_SEED", "14"))
ROUNDS = int(os.environ.get("LAKEGATE_CRASH_ROUNDS", "20"))
STATE_URL = os.environ.get("LAKEGATE_CRASH_STATE", "")
# The kill comes at a random point within this many seconds of a burst's
# start: long enough for some writes of every kind to be acknowledged first
# (a CLI run on a remote store takes longer to connect and commit).
KILL_WINDOW_S = float(os.environ.get("LAKEGATE_CRASH_WINDOW", "0.6"))
LOAD_ROWS = 3000
READ = "athena-api/query.read"


class CrashConsistencyTest(unittest.TestCase):
    state_url = STATE_URL  # "" = the demo's SQLite file

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lakegate-crash-")
        args = ["demo", "--dir", self.dir, "--port", "0"]
        self.env = dict(os.environ)
        if self.state_url:
            args += ["--state", self.state_url]
            self.env["LAKEGATE_STATE_URL"] = self.state_url
        self.server = Server(args, directory=self.dir)
        self.rng = random.Random(SEED)
        self.csv = os.path.join(self.dir, "rows.csv")
        with open(self.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "value"])
            for i in range(LOAD_ROWS):
                w.writerow([i, f"name-{i}", i * 0.5])
        # What was acknowledged, over all rounds.
        self.clients = {}          # name -> {"id", "secret", "uncertain"}
        self.kids = set()          # rotated signing keys
        self.granted = set()       # roles with DESCRIBE on analytics (CLI or admin API)
        self.revoked_roles = set() # roles whose grant a revoke removed
        self.revoked_tokens = []   # access tokens /oauth2/revoke answered 200 for
        self.loaded = set()        # lake tables "crashdb.tN_M" loaded in full
        self.attempted_tables = set()
        self.acks = {}             # kind -> count
        self.killed = {}           # kind -> CLI runs the crash cut short
        self.failures = []         # (kind, exit code, stderr) of CLI runs that failed unkilled

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers -------------------------------------------------------------
    @property
    def stack(self):
        return os.path.join(self.dir, "stack.yaml")

    def cli(self, *args):
        proc = subprocess.run([LAKEGATE, *args, "--config", self.stack], capture_output=True,
                              text=True, timeout=60, env=self.env)
        self.assertEqual(proc.returncode, 0, f"lakegate {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def etl(self):
        with open(os.path.join(self.dir, "secrets", "etl-service.json")) as f:
            creds = json.load(f)
        return creds["client_id"], creds["client_secret"]

    def kill_server(self):
        proc = self.server.proc
        if proc is None:
            return
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.server.stop()  # closes the pipes; the process is gone

    def kill_during_start(self):
        """SIGKILLs a server that is still starting (applying the stack, opening the store)."""
        proc = subprocess.Popen([LAKEGATE, *self.server.args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(self.rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def ack(self, kind):
        self.acks[kind] = self.acks.get(kind, 0) + 1

    # ---- one burst -----------------------------------------------------------
    def plan_cli_ops(self, round_no):
        """A random mix of CLI writes; at most one per client or role."""
        ops = []
        rotatable = [n for n, c in self.clients.items() if not c["uncertain"]]
        revocable = sorted(self.granted - self.revoked_roles)
        self.rng.shuffle(rotatable)
        self.rng.shuffle(revocable)
        for i in range(self.rng.randint(4, 7)):
            kind = self.rng.choice(["create", "create", "rotate", "key", "grant", "revoke", "load"])
            if kind == "rotate" and not rotatable:
                kind = "create"
            if kind == "revoke" and not revocable:
                kind = "grant"
            if kind == "create":
                name = f"crash-c{round_no}-{i}"
                ops.append((kind, name, ["client", "create", name, "--scope", READ,
                                         "--write-secret-file"]))
            elif kind == "rotate":
                name = rotatable.pop()
                ops.append((kind, name, ["client", "rotate-secret", name]))
            elif kind == "key":
                ops.append((kind, None, ["key", "rotate"]))
            elif kind == "grant":
                role = f"crash-g{round_no}-{i}"
                ops.append((kind, role, ["grant", role, "DESCRIBE", "--on", "analytics"]))
            elif kind == "revoke":
                role = revocable.pop()
                ops.append((kind, role, ["revoke", role, "DESCRIBE", "--on", "analytics"]))
            else:
                table = f"crashdb.t{round_no}_{i}"
                ops.append((kind, table, ["load", table, self.csv, "--create"]))
        return ops

    def api_writer(self, round_no, stop, results):
        """Token revocations and admin-API grants until `stop` (or the server dies)."""
        url = self.server.url
        client_id, secret = self.etl()
        auth = {"Authorization": basic(client_id, secret)}
        n = 0
        try:
            status, body, _ = post_form(url + "/oauth2/token",
                                        {"grant_type": "client_credentials"}, auth)
            if status != 200:
                return
            admin = body["access_token"]
            while not stop.is_set():
                n += 1
                status, body, _ = post_form(url + "/oauth2/token",
                                            {"grant_type": "client_credentials", "scope": READ},
                                            auth)
                if status != 200:
                    continue
                token = body["access_token"]
                status, _, _ = post_form(url + "/oauth2/revoke", {"token": token}, auth)
                if status == 200:
                    results.append(("revoke_token", token))
                role = f"crash-api{round_no}-{n}"
                doc = {"role": role, "database": "analytics", "permissions": ["DESCRIBE"]}
                status, _, _ = request(url + "/v1/admin/grant", "POST", json.dumps(doc).encode(),
                                       {"Authorization": "Bearer " + admin,
                                        "Content-Type": "application/json"}, timeout=5)
                if status == 200:
                    results.append(("api_grant", role))
        except OSError:
            pass  # the server was killed under us: whatever was answered 200 counts

    def burst(self, round_no):
        ops = self.plan_cli_ops(round_no)
        procs = []
        for kind, subject, args in ops:
            if kind == "load":
                self.attempted_tables.add(subject)
            procs.append((kind, subject, subprocess.Popen(
                [LAKEGATE, *args, "--config", self.stack], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=self.env)))
        stop = threading.Event()
        api_results = []
        api = threading.Thread(target=self.api_writer, args=(round_no, stop, api_results))
        api.start()
        time.sleep(self.rng.uniform(0.0, KILL_WINDOW_S))
        # The crash: the server and every CLI process still running.
        self.kill_server()
        for _, _, p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        stop.set()
        api.join(timeout=30)
        self.assertFalse(api.is_alive(), "the API writer did not stop")
        for kind, subject, p in procs:
            out, err = p.communicate(timeout=30)
            self.record_cli(kind, subject, p.returncode, out, err)
        for kind, subject in api_results:
            self.ack(kind)
            if kind == "revoke_token":
                self.revoked_tokens.append(subject)
            else:
                self.granted.add(subject)

    def record_cli(self, kind, subject, code, out, err):
        if code != 0:
            if code == -signal.SIGKILL:
                self.killed[kind] = self.killed.get(kind, 0) + 1
            else:
                self.failures.append((kind, code, err.strip()))
            # Not acknowledged: the write may or may not have happened.
            if kind == "rotate":
                self.clients[subject]["uncertain"] = True
            elif kind == "revoke":
                self.granted.discard(subject)
            return
        self.ack(kind)
        if kind == "create":
            cid = re.search(r"^client_id:\s+(\S+)", out, re.M).group(1)
            secret = re.search(r"^client_secret:\s+(\S+)", out, re.M).group(1)
            self.clients[subject] = {"id": cid, "secret": secret, "uncertain": False}
        elif kind == "rotate":
            secret = re.search(r"^client_secret:\s+(\S+)", out, re.M).group(1)
            self.clients[subject]["secret"] = secret
        elif kind == "key":
            self.kids.add(re.search(r"new signing key (\S+)", out).group(1))
        elif kind == "grant":
            self.granted.add(subject)
        elif kind == "revoke":
            self.revoked_roles.add(subject)
        elif kind == "load":
            self.loaded.add(subject)

    # ---- the checks after a restart -----------------------------------------
    @staticmethod
    def open_sqlite(path):
        """Opens an SQLite file to read, as the next lakegate process would: read-write
        (so a WAL that a killed writer left is recovered, which a read-only open
        cannot do), with query_only so this test itself writes nothing."""
        db = sqlite3.connect(path, timeout=10)
        db.execute("PRAGMA query_only = 1")
        return db

    def store_rows(self, sql):
        """Rows of `sql` over the state store; {s} is the tables' schema prefix."""
        if not self.state_url:
            db = self.open_sqlite(os.path.join(self.dir, "state", "state.db"))
            try:
                return db.execute(sql.format(s="")).fetchall()
            finally:
                db.close()
        proc = subprocess.run(["psql", self.state_url, "-X", "-q", "-A", "-t", "-F", "\x1f",
                               "-R", "\x1e", "-c", sql.format(s="lakegate.")],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout.rstrip("\n")
        return [tuple(r.split("\x1f")) for r in out.split("\x1e") if r.strip("\n")]

    def check_state_store(self):
        if not self.state_url:
            self.assertEqual(self.store_rows("PRAGMA integrity_check"), [("ok",)])
            self.assertEqual(self.store_rows("PRAGMA foreign_key_check"), [])
        # A whole client has its credential (a secret hash, or for
        # private_key_jwt its public keys) and its scopes.
        half = self.store_rows(
            "SELECT name FROM {s}clients WHERE "
            "(auth_method = 'private_key_jwt' AND jwks = '' AND jwks_uri = '') OR "
            "(auth_method <> 'private_key_jwt' AND secret_hash = '') OR client_id NOT IN "
            "(SELECT client_id FROM {s}client_scopes)")
        self.assertEqual(half, [], "clients without their credential or scopes")
        for version, text in self.store_rows("SELECT version, json FROM {s}policy_versions"):
            doc = json.loads(text)  # a whole document, or this raises
            self.assertIn("roles", doc, f"policy version {version}")
        for kid, pem in self.store_rows("SELECT kid, private_pem FROM {s}signing_keys"):
            self.assertIn("-----BEGIN", pem, f"key {kid}")
            self.assertIn("-----END", pem, f"key {kid}")

    def check_lake(self):
        path = os.path.join(self.dir, "lake", "crashdb.db")
        if not os.path.exists(path):
            self.assertEqual(self.loaded, set())
            return
        db = self.open_sqlite(path)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            tables = {r[0] for r in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table'")}
            for table in tables:
                n = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                self.assertEqual(n, LOAD_ROWS, f"table crashdb.{table} is half loaded")
            for full in self.loaded:
                self.assertIn(full.split(".", 1)[1], tables, f"acknowledged load {full} is lost")
        finally:
            db.close()

    def check_secret_files(self):
        folder = os.path.join(self.dir, "secrets")
        for name in os.listdir(folder):
            # A writer killed mid-write may leave its temporary file
            # (NAME.json.tmp-XXXX) behind; only the named files are secrets.
            if not name.startswith("crash-") or not name.endswith(".json"):
                continue
            with open(os.path.join(folder, name)) as f:
                doc = json.load(f)  # whole JSON, or this raises
            self.assertEqual(set(doc), {"client_id", "client_secret"}, name)
            self.assertEqual(os.stat(os.path.join(folder, name)).st_mode & 0o777, 0o600, name)

    def check_acknowledged(self):
        url = self.server.url
        for name, c in self.clients.items():
            status, body, _ = post_form(url + "/oauth2/token",
                                        {"grant_type": "client_credentials"},
                                        {"Authorization": basic(c["id"], c["secret"])})
            self.assertEqual(status, 200, f"client {name}: acknowledged secret refused: {body}")
        status, jwks, _ = get_json(url + "/.well-known/jwks.json")
        self.assertEqual(status, 200)
        published = {k["kid"] for k in jwks["keys"]}
        self.assertEqual(self.kids - published, set(), "acknowledged key rotations lost")

        policy = json.loads(self.cli("policy", "export"))
        roles = {r["name"]: r for r in policy.get("roles", [])}

        def has_grant(role):
            return any(g.get("database") == "analytics" and not g.get("table")
                       and "DESCRIBE" in g.get("permissions", [])
                       for g in roles.get(role, {}).get("grants", []))
        for role in self.granted - self.revoked_roles:
            self.assertTrue(has_grant(role), f"acknowledged grant to {role} is lost")
        for role in self.revoked_roles:
            self.assertFalse(has_grant(role), f"acknowledged revoke of {role} is lost")

        client_id, secret = self.etl()
        auth = {"Authorization": basic(client_id, secret)}
        for token in self.revoked_tokens[-40:]:
            status, body, _ = post_form(url + "/oauth2/introspect", {"token": token}, auth)
            self.assertEqual(status, 200)
            self.assertEqual(body, {"active": False}, "an acknowledged revocation is lost")

    # ---- the test ------------------------------------------------------------
    def test_sigkill_during_write_bursts_loses_nothing_acknowledged(self):
        self.server.start()
        try:
            for round_no in range(ROUNDS):
                self.burst(round_no)
                if self.rng.random() < 0.25:
                    self.kill_during_start()
                self.server.start()  # raises when it does not start
                self.check_state_store()
                self.check_lake()
                self.check_secret_files()
                self.check_acknowledged()
        except AssertionError as e:
            raise AssertionError(f"seed {SEED}, round {round_no}: {e}") from e
        finally:
            print(f"\nseed {SEED}, {ROUNDS} rounds; acknowledged: {self.acks}; "
                  f"killed mid-run: {self.killed}; failed without a kill: {len(self.failures)}")
            for kind, code, err in self.failures[:10]:
                print(f"  {kind} exited {code}: {err[:300]}")
        # The test exercised every kind of write (else it proves nothing).
        for kind in ("create", "rotate", "key", "grant", "revoke", "load", "revoke_token",
                     "api_grant"):
            self.assertGreater(self.acks.get(kind, 0), 0, f"no acknowledged {kind} in {ROUNDS} rounds")


if __name__ == "__main__":
    unittest.main()
