#!/usr/bin/env bash
# A throwaway PostgreSQL 15 (Debian's /usr/lib/postgresql/15/bin) for tests,
# benchmarks and trying the shared state store:
#
#   scripts/postgres.sh start DIR [--tls]   initdb in DIR/data (first time), start it on a
#                                           random free loopback port, print the URL
#   scripts/postgres.sh stop DIR            stop it and delete its data (always cleans up,
#                                           also after a failed start)
#   scripts/postgres.sh halt DIR            stop it but keep the data: `start DIR` again
#                                           restarts it on the same port (outage tests)
#   scripts/postgres.sh url DIR             print the URL again
#
# The server runs as an unprivileged user (`postgres`, which Debian's package
# creates; as a non-root caller, the caller itself), listens on 127.0.0.1 only
# (plus a Unix socket in DIR/run), and has one password-authenticated (SCRAM)
# role `lakegate` (allowed to create databases and roles: tests make a database
# each, the PostgreSQL engine a login role per lakegate role) owning the
# database `lakegate`; the large-object write functions are revoked from PUBLIC
# (scripts/postgres-engine-hardening.sql). The URL, password included, is written to DIR/url (mode
# 0600) and printed. With --tls the server has a certificate for 127.0.0.1 and
# localhost signed by a throwaway CA (DIR/tls/ca.pem), refuses unencrypted TCP
# connections, and the URL says sslmode=verify-full. `start` on a halted DIR
# reuses its data, port and password (a restart).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

usage() {
  echo "usage: $0 start|stop|halt|url DIR [--tls]" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
tls=0
[[ "${3:-}" == "--tls" ]] && tls=1

if [[ ! -x "$PG_BIN/pg_ctl" ]]; then
  echo "PostgreSQL 15 is not installed ($PG_BIN/pg_ctl missing): run scripts/install-deps.sh" >&2
  exit 1
fi

# Runs a command as the server's user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

make_tls() {
  local tls_dir=$dir/tls
  mkdir -p "$tls_dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lakegate test CA" \
    -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls_dir/server.key" -out "$tls_dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls_dir/san.ext"
  openssl x509 -req -in "$tls_dir/server.csr" -CA "$tls_dir/ca.pem" -CAkey "$tls_dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$tls_dir/san.ext" -out "$tls_dir/server.pem" 2>/dev/null
  chmod 0600 "$tls_dir/server.key" "$tls_dir/ca.key"
  chmod 0644 "$tls_dir/ca.pem" "$tls_dir/server.pem"
  [[ $(id -u) -eq 0 ]] && chown postgres "$tls_dir/server.key" "$tls_dir/server.pem"
  return 0
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
  chmod 0711 "$dir"
  local data=$dir/data
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data" "$dir/run" "$dir/tls"
    local password
    password=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
    local port
    port=$(free_port)
    # Local (socket) connections: trust, for this script's own setup only (the
    # socket directory is the server user's, mode 0700). TCP: SCRAM passwords.
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    mkdir -p "$dir/run"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir/run"
    chmod 0700 "$dir/run"
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir/run'"
      echo "max_connections = 200"
      echo "fsync = off"  # throwaway data: speed over durability
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "log_min_messages = warning"
    } >>"$data/postgresql.conf"
    if ((tls)); then
      make_tls
      {
        echo "ssl = on"
        echo "ssl_cert_file = '$dir/tls/server.pem'"
        echo "ssl_key_file = '$dir/tls/server.key'"
      } >>"$data/postgresql.conf"
      # Only encrypted TCP connections are accepted.
      sed -i -E 's/^host(\s)/hostssl\1/' "$data/pg_hba.conf"
      echo "hostnossl all all 0.0.0.0/0 reject" >>"$data/pg_hba.conf"
      echo "hostnossl all all ::/0 reject" >>"$data/pg_hba.conf"
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
    as_pg "$PG_BIN/psql" -h "$dir/run" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
      -v pw="$password" >/dev/null <<'SQL'
CREATE ROLE lakegate LOGIN CREATEDB CREATEROLE PASSWORD :'pw';
CREATE DATABASE lakegate OWNER lakegate;
SQL
    # The PostgreSQL engine's hardening that needs a superuser, once per
    # database (template1: every database a test creates inherits it).
    for db in template1 lakegate; do
      as_pg "$PG_BIN/psql" -h "$dir/run" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 -q \
        -f "$(dirname "$0")/postgres-engine-hardening.sql" >/dev/null
    done
    local url="postgresql://lakegate:$password@127.0.0.1:$port/lakegate"
    if ((tls)); then url="$url?sslmode=verify-full&sslrootcert=$dir/tls/ca.pem"; fi
    (umask 077 && printf '%s\n' "$url" >"$dir/url")
  else
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  cat "$dir/url"
}

halt() {
  [[ -d "$dir" ]] || return 0
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

stop() {
  halt
  [[ -d "$dir" ]] || return 0
  rm -rf "$dir/data" "$dir/run" "$dir/tls" "$dir/url"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  halt) halt ;;
  url) cat "$dir/url" ;;
  *) usage ;;
esac
