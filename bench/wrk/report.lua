-- Shared by the wrk scripts: one machine-readable line at the end of a run
-- (latencies in microseconds), parsed by bench/*.sh.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d requests=%d non2xx=%d sock_err=%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
