-- wrk's replay script for scripts/bench_payments.py (copied into the run's folder and given to wrk -s).
-- Replays the requests of a file, one a line: "Name: value" header fields, then the body, tab-separated.
-- Each wrk thread takes every BENCH_THREADS-th line from BENCH_OFFSET on; past its share it starts again at
-- the top, counting those as `wrapped` (with BENCH_FRESH_KEYS=1 each with a new Idempotency-Key).

local file = os.getenv("BENCH_REQUESTS")
local offset = tonumber(os.getenv("BENCH_OFFSET"))
local stride = tonumber(os.getenv("BENCH_THREADS"))
local fresh_keys = os.getenv("BENCH_FRESH_KEYS") == "1"
local threads, made = {}, 0

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

local function build(line, key_suffix)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
  local body = table.remove(fields)
  local headers = {}
  for _, field in ipairs(fields) do
    local name, value = string.match(field, "^([^:]+): (.*)$")
    if key_suffix and name == "Idempotency-Key" then value = value .. key_suffix end
    headers[name] = value
  end
  return wrk.format("POST", nil, headers, body)
end

function init(args)
  lines, mine = {}, {}
  for line in io.lines(file) do lines[#lines + 1] = line end
  local i = offset + tid + 1
  while i <= #lines do
    mine[#mine + 1] = build(lines[i])
    i = i + stride
  end
  sent, wrapped = 0, 0
  s200, s201, s204, s409, s429, sother = 0, 0, 0, 0, 0, 0
end

function request()
  sent = sent + 1
  if sent <= #mine then return mine[sent] end
  wrapped = wrapped + 1
  local line = lines[((sent - 1) * stride + tid) % #lines + 1]
  return build(line, fresh_keys and ("w" .. tid .. "n" .. wrapped) or nil)
end

function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 201 then s201 = s201 + 1
  elseif status == 204 then s204 = s204 + 1
  elseif status == 409 then s409 = s409 + 1
  elseif status == 429 then s429 = s429 + 1
  else sother = sother + 1 end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("BENCH-THREAD tid=%d sent=%d share=%d wrapped=%d", t:get("tid"), t:get("sent"),
      #t:get("mine"), t:get("wrapped")))
    io.write(string.format(" s200=%d s201=%d s204=%d s409=%d s429=%d sother=%d\n", t:get("s200"), t:get("s201"),
      t:get("s204"), t:get("s409"), t:get("s429"), t:get("sother")))
  end
end
