-- Sends pre-signed Stripe deliveries, each thread its own share, each event once.
--   wrk ... -s wrk_events.lua URL -- EVENTS_FILE [RATE_PER_THREAD] [once]
-- RATE_PER_THREAD 0: every connection sends again as soon as it is answered (the maximum).
-- Otherwise each thread starts its requests on a fixed schedule, RATE_PER_THREAD per second
-- whatever the latency (an open loop); a request that could not start on time because every
-- connection of its thread was busy is counted as late.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } seatflow_timespec;
int clock_gettime(int clk_id, seatflow_timespec *tp);
]]
local ts = ffi.new("seatflow_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local requests = {}
local index = 0
local interval = 0  -- ms between request starts on this thread
local next_due = nil
late = 0  -- read by done() through thread:get

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local rate = tonumber(args[2] or "0")
  once = args[3] == "once"  -- stop after sending each event once
  if rate > 0 then
    interval = 1000 / rate
  end
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
  if interval == 0 then
    return 0
  end
  local now = now_ms()
  if next_due == nil then
    next_due = now
  end
  next_due = next_due + interval
  local wait = next_due - now
  if wait < -1 then
    late = late + 1
    return 0
  end
  return math.max(0, math.floor(wait + 0.5))
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
  local late_total = 0
  for _, thread in ipairs(threads) do
    late_total = late_total + (thread:get("late") or 0)
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "non_2xx": %d, "socket_errors": %d, "late": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    late_total))
end
