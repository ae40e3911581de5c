-- wrk script: POSTs a chat completion whose max_tokens sets the answer size at the stand-in,
-- and prints one JSON line of totals and latency percentiles (µs) when the run is over.
local max_tokens = os.getenv("BENCH_MAX_TOKENS") or "1000"
-- With BENCH_PACE_MS each connection waits that long before each request: a fixed offered load
-- (connections / (pace + latency)) instead of as fast as the target answers.
local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "0")
if pace_ms > 0 then
  function delay() return pace_ms end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"gpt-4o-mini","max_tokens":' .. max_tokens ..
  ',"messages":[{"role":"user","content":"Summarise the quarterly report."}]}'

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    '{"requests":%d,"errors":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, errors, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
