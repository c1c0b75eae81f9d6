# Shared by bench/*.sh (sourced). Loopback only; servers stopped by their PID.
# Needs: ROOT set by the caller.

WORK=$(mktemp -d /tmp/lakegate-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# field LINE NAME: the value of NAME=... in a RESULT line.
field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# nginx_ceiling OUTFILE: a private nginx (1 worker) answering `return 200`
# on 127.0.0.1:$NGINX_PORT, measured with the caller's wrk settings; prints
# the RESULT line.
nginx_ceiling() {
  local prefix=$WORK/nginx
  mkdir -p "$prefix/logs"
  cat >"$prefix/nginx.conf" <<NGINX
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${NGINX_PORT:-18080};
    default_type application/json;
    location / { return 200 '{"ok":true}'; }
  }
}
NGINX
  nginx -p "$prefix" -c "$prefix/nginx.conf"
  for _ in $(seq 50); do [[ -s $prefix/nginx.pid ]] && break; sleep 0.1; done
  local pid; pid=$(cat "$prefix/nginx.pid")
  wrk -t1 -c10 -d2s "http://127.0.0.1:${NGINX_PORT:-18080}/" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/get.lua" \
    "http://127.0.0.1:${NGINX_PORT:-18080}/" >"$1"
  kill -QUIT "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$prefix/nginx.pid"
  grep '^RESULT' "$1"
}

# wait_for_url LOGFILE PATTERN: the URL printed after PATTERN, within 15 s.
wait_for_url() {
  local url=
  for _ in $(seq 150); do
    url=$(sed -n "s/.*$2 \(http[^ ]*\).*/\1/p" "$1" | head -1)
    [[ -n $url ]] && break
    sleep 0.1
  done
  echo "$url"
}
