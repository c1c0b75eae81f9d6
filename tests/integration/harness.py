"""Test harness: runs the real lakegate binary on an ephemeral loopback port.

Every server is started by the test itself, bound to 127.0.0.1 port 0, and
always stopped (SIGTERM, then SIGKILL after a bounded wait).
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

LAKEGATE = os.environ.get("LAKEGATE_BIN", "lakegate")
URL_RE = re.compile(r"(?:running at|listening on) (https?://\S+)")


def run_cli(*args, check=True, env=None, timeout=60):
    """Runs `lakegate ARGS` to completion; returns the CompletedProcess."""
    proc = subprocess.run([LAKEGATE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"lakegate {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


class Server:
    """`lakegate demo` (or `serve`) in a temp dir; use as a context manager."""

    def __init__(self, args=None, directory=None):
        self.own_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="lakegate-it-")
        self.args = args or ["demo", "--dir", self.dir, "--port", "0"]
        self.proc = None
        self.url = None
        self.stdout_lines = []
        self.stderr_lines = []

    def start(self, timeout=30):
        self.proc = subprocess.Popen([LAKEGATE, *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        found = threading.Event()

        def pump(stream, sink, look_for_url):
            for line in stream:
                sink.append(line)
                if look_for_url and not found.is_set():
                    m = URL_RE.search(line)
                    if m:
                        self.url = m.group(1).rstrip("/")
                        found.set()

        threading.Thread(target=pump, args=(self.proc.stdout, self.stdout_lines, True),
                         daemon=True).start()
        threading.Thread(target=pump, args=(self.proc.stderr, self.stderr_lines, False),
                         daemon=True).start()
        deadline = time.time() + timeout
        while time.time() < deadline and not found.is_set():
            if self.proc.poll() is not None:
                break
            found.wait(0.05)
        if not found.is_set():
            self.stop()
            raise AssertionError("server did not start:\n" + "".join(self.stdout_lines) +
                                 "".join(self.stderr_lines))
        # Wait for readiness (the auth server is attached right after binding).
        for _ in range(200):
            status, _, _ = request(self.url + "/readyz")
            if status == 200:
                break
            time.sleep(0.02)
        return self

    def stop(self, timeout=15):
        """SIGTERM, wait, SIGKILL if needed. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass  # the pump thread may be reading it right now
        self.proc = None
        return code

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # --- demo helpers -------------------------------------------------------
    @property
    def stack_file(self):
        return os.path.join(self.dir, "stack.yaml")

    def secret(self, client):
        with open(os.path.join(self.dir, "secrets", client + ".json")) as f:
            return json.load(f)

    def cli(self, *args, check=True):
        return run_cli(*args, "--config", self.stack_file, check=check)

    def token(self, client="etl-service", scope=None, method="basic"):
        """Returns (status, json body, headers) of a token request."""
        creds = self.secret(client)
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        headers = {}
        if method == "basic":
            headers["Authorization"] = basic(creds["client_id"], creds["client_secret"])
        else:
            form["client_id"] = creds["client_id"]
            form["client_secret"] = creds["client_secret"]
        return post_form(self.url + "/oauth2/token", form, headers)

    def access_token(self, client="etl-service", scope=None):
        status, body, _ = self.token(client, scope)
        assert status == 200, body
        return body["access_token"]


def basic(client_id, secret):
    raw = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return "Basic " + base64.b64encode(raw.encode()).decode()


def request(url, method="GET", body=None, headers=None, timeout=10):
    """Returns (status, body bytes, headers dict with lower-case names)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


def post_form(url, form, headers=None, raw=None):
    body = raw if raw is not None else urllib.parse.urlencode(form).encode()
    h = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    status, data, hdrs = request(url, "POST", body, h)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data
    return status, parsed, hdrs


def get_json(url):
    status, data, hdrs = request(url)
    return status, json.loads(data) if data else None, hdrs


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def decode_unverified(token):
    header, payload, _ = token.split(".")
    return b64url_json(header), b64url_json(payload)
