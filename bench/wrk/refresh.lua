-- wrk script: token refresh as the app does it. Each connection rotates its own
-- refresh token: the response's refresh_token is the one sent next (a used one
-- would revoke its whole family). Tokens come one per line from a file, at least
-- one per connection; a thread takes the lines i with i % THREADS == its id.
-- Each request comes from another client address (X-Forwarded-For, from the
-- benchmarking range 198.18.0.0/15; the function trusts one proxy hop), as the
-- app's users do: the per-address rate limit is not what is measured.
-- Usage: wrk -t1 -c16 -d3s -s refresh.lua http://127.0.0.1:PORT -- TOKENS THREADS PATH
local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  queue = {}
  local nthreads = tonumber(args[2])
  path = args[3]
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then table.insert(queue, line) end
    i = i + 1
  end
  non2xx = 0
  server_errors = 0
  starved = 0
  verified = id ~= 0
end

function request()
  local token
  if not verified then
    -- wrk calls request() once on the first thread to check the script,
    -- and never sends that one: it must not use up a token.
    verified = true
    token = queue[1]
  else
    token = table.remove(queue, 1)
  end
  if token == nil then
    starved = starved + 1
    token = "starved"
  end
  local address = "198.18." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address},
                    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then table.insert(queue, token) end
  else
    non2xx = non2xx + 1
    if status >= 500 then server_errors = server_errors + 1 end
  end
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
