-- wrk script: cycle through the requests of a plan file, one per line:
--   METHOD <tab> PATH <tab> BEARER TOKEN (or empty) <tab> JSON BODY (or empty)
-- and print one JSON line with the figures at the end.
-- Usage: wrk -t1 -c16 -d3s -s cycle.lua http://127.0.0.1:PORT -- PLAN
local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  plan = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body == "" then body = nil else headers["Content-Type"] = "application/json" end
    table.insert(plan, wrk.format(method, path, headers, body))
  end
  at = id * 7
  non2xx = 0
  server_errors = 0
end

function request()
  at = (at % #plan) + 1
  return plan[at]
end

function response(status, headers, body)
  if status >= 300 then non2xx = non2xx + 1 end
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local n, s = 0, 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("non2xx")
    s = s + thread:get("server_errors")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non2xx":%d,"s5xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, n, s, e.connect + e.read + e.write + e.timeout))
end
