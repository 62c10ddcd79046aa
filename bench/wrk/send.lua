-- wrk script of the fleet bench: single sends (POST /v1/messages), a fixed number of them, each
-- with its own sender/receiver pair and its own client_msg_id, either as fast as the server answers
-- (WRK_RATE=0) or at a constant rate (WRK_RATE sends/s, held per thread with the delay() hook).
-- Driven by bench/wrk.ts; configured through the environment (setup() has no script arguments):
--   WRK_TOTAL     sends in all (split over the threads: thread t sends n = t, t + T, t + 2T, ...)
--   WRK_THREADS   the -t given to wrk
--   WRK_RATE      sends per second for all threads together; 0 = closed loop
--   WRK_SENDERS   file of sender ids, one a line; WRK_RECEIVERS the same for receivers
--   WRK_PREFIX    client_msg_id prefix (the message n gets PREFIX..n)
--   WRK_TOKEN     bearer token
--   WRK_DUMP      optional: a file per thread (WRK_DUMP.t) receives every body sent, one a line
-- Each body's content carries a=<µs> (CLOCK_MONOTONIC when the request was written) and, with a
-- rate, s=<µs> (when it was due), so a subscriber on the same machine measures POST to PUBLISH.
-- Lines on stdout for the driver: "WRK_PROGRESS <thread> <answered>", "WRK_THREAD_DONE <thread>",
-- and from done() one "WRK_RESULT <json>".

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC, the clock of Node's process.hrtime
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local function lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- ---- setup: runs in the main environment, once per thread -------------------------------------
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- ---- running: each thread's own environment ---------------------------------------------------
local total, nthreads, rate, prefix
local senders, receivers
local head
quota, claimed, built, answered = 0, 0, 0, 0
accepted, statuses = 0, {}
first_us, last_us = 0, 0
local start_us, interval_us = 0, 0
local due = {} -- FIFO of the due times of claimed sends (rate mode)
local due_head, due_tail = 1, 0
local dump

function init(args)
  total = tonumber(os.getenv("WRK_TOTAL"))
  nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  rate = tonumber(os.getenv("WRK_RATE") or "0")
  prefix = os.getenv("WRK_PREFIX") or "wrk-"
  senders = lines(os.getenv("WRK_SENDERS"))
  receivers = lines(os.getenv("WRK_RECEIVERS") or os.getenv("WRK_SENDERS"))
  if tid < total then quota = math.floor((total - tid - 1) / nthreads) + 1 end
  if rate > 0 then interval_us = 1000000 * nthreads / rate end
  local host = wrk.host .. (wrk.port and (":" .. wrk.port) or "")
  head = "POST /v1/messages HTTP/1.1\r\nHost: " .. host ..
         "\r\nAuthorization: Bearer " .. (os.getenv("WRK_TOKEN") or "") ..
         "\r\nContent-Type: application/json\r\nContent-Length: "
  local d = os.getenv("WRK_DUMP")
  if d and d ~= "" then dump = assert(io.open(d .. "." .. tid, "w")) end
  if quota == 0 then
    io.write("WRK_THREAD_DONE ", tid, "\n"); io.stdout:flush()
  end
end

-- Called before every request of every connection. Closed loop: send at once. Rate: claim the
-- thread's next slot and wait for it. Once the thread's quota is claimed, park the connection
-- (an hour; the thread stops when its last answer is in).
function delay()
  if claimed >= quota then return 3600000 end
  claimed = claimed + 1
  if rate <= 0 then return 0 end
  local now = now_us()
  if start_us == 0 then start_us = now end
  local at = start_us + (claimed - 1) * interval_us
  due_tail = due_tail + 1
  due[due_tail] = at
  if at <= now then return 0 end
  return math.ceil((at - now) / 1000)
end

function request()
  -- wrk calls request() once before the run to check that it parses, with no claim behind it:
  -- answer that call with a request that uses no message number.
  if built >= claimed then
    local body = '{"sender_id":"1","receiver_id":"2","content":"check"}'
    return head .. #body .. "\r\n\r\n" .. body
  end
  local n = tid + built * nthreads
  built = built + 1
  local ns, nr = #senders, #receivers
  local si = n % ns
  local ri = (si + 1 + math.floor(n / ns)) % nr
  local sender, receiver = senders[si + 1], receivers[ri + 1]
  if receiver == sender then receiver = receivers[(ri + 1) % nr + 1] end
  local now = now_us()
  if first_us == 0 then first_us = now end
  local content
  if rate > 0 then
    local at = due[due_head]
    due[due_head] = nil
    due_head = due_head + 1
    content = string.format("lat %d s=%d a=%d", n, math.floor(at), now)
  else
    content = string.format("bench %d 你好 🚀 a=%d", n, now)
  end
  local body = '{"sender_id":"' .. sender .. '","receiver_id":"' .. receiver ..
               '","content":"' .. content .. '","client_msg_id":"' .. prefix .. n .. '"}'
  if dump then dump:write(body, "\n") end
  return head .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, body)
  answered = answered + 1
  if status == 202 then
    accepted = accepted + 1
  else
    statuses[status] = (statuses[status] or 0) + 1
  end
  if answered % 5000 == 0 then
    io.write("WRK_PROGRESS ", tid, " ", answered, "\n"); io.stdout:flush()
  end
  if answered >= quota then
    last_us = now_us()
    if dump then dump:close(); dump = nil end
    io.write("WRK_THREAD_DONE ", tid, "\n"); io.stdout:flush()
    wrk.thread:stop()
  end
end

-- ---- done: main environment, after every thread stopped ----------------------------------------
local function proc_self()
  -- utime and stime (clock ticks, 100 a second) of the whole process, every thread, and peak RSS.
  local f = io.open("/proc/self/stat", "r")
  local stat = f:read("*a"); f:close()
  local rest = stat:sub(stat:find(")", 1, true) + 2)
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  local cpu = (tonumber(fields[12]) + tonumber(fields[13])) / 100
  local hwm = 0
  f = io.open("/proc/self/status", "r")
  for line in f:lines() do
    local kb = line:match("^VmHWM:%s+(%d+) kB")
    if kb then hwm = tonumber(kb) * 1024 end
  end
  f:close()
  return cpu, hwm
end

function done(summary, latency, requests)
  local sent, acc, first, last = 0, 0, 0, 0
  local st = {}
  for _, t in ipairs(threads) do
    sent = sent + (t:get("answered") or 0)
    acc = acc + (t:get("accepted") or 0)
    local f, l = t:get("first_us") or 0, t:get("last_us") or 0
    if f > 0 and (first == 0 or f < first) then first = f end
    if l > last then last = l end
    for code, k in pairs(t:get("statuses") or {}) do st[code] = (st[code] or 0) + k end
  end
  local codes = {}
  for code, k in pairs(st) do codes[#codes + 1] = string.format('"%d":%d', code, k) end
  local cpu, hwm = proc_self()
  local e = summary.errors
  local q = function(p) return latency:percentile(p) end
  io.write(string.format(
    'WRK_RESULT {"answered":%d,"accepted":%d,"other_statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
    '"first_us":%d,"last_us":%d,"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},' ..
    '"cpu_s":%.2f,"peak_rss":%d}\n',
    sent, acc, table.concat(codes, ","),
    e.connect, e.read, e.write, e.timeout, e.status,
    first, last, q(50), q(90), q(99), q(99.9), latency.max, latency.mean,
    cpu, hwm))
  io.stdout:flush()
end
