-- Sends pre-signed Stripe deliveries, each thread its own share, each event once.
local threads = {}
local requests = {}
local index = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  pause = tonumber(args[2] or "0")
  once = args[3] == "once"  -- stop after sending each event once
  local n = 0
  for line in io.lines(path) do
    if n % 2 == id then
      local tab = line:find("\t", 1, true)
      requests[#requests + 1] = wrk.format("POST", "/webhooks/stripe",
        {["Content-Type"] = "application/json", ["Stripe-Signature"] = line:sub(1, tab - 1)},
        line:sub(tab + 1))
    end
    n = n + 1
  end
end

function delay()
  return pause
end

local answered = 0

function response(status, headers, body)
  answered = answered + 1
  if once and answered >= #requests then
    wrk.thread:stop()
  end
end

function request()
  index = index + 1
  return requests[((index - 1) % #requests) + 1]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
