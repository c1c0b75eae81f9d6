-- wrk script: an RFC 6749 client_credentials token request with client_secret_basic.
-- Environment: AUTH (the whole "Basic ..." header value), SCOPE (optional).
wrk.method = "POST"
wrk.headers["Authorization"] = os.getenv("AUTH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local scope = os.getenv("SCOPE")
wrk.body = "grant_type=client_credentials" .. ((scope and scope ~= "") and ("&scope=" .. scope) or "")

-- One machine-readable line at the end (latencies in microseconds).
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
