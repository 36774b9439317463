-- One wrk script for every case, driven by environment variables the bench sets:
--   BENCH_METHOD  GET | POST
--   BENCH_PATH    path; "{id}" is replaced by the current id
--   BENCH_BODY    request body (may contain "{id}"), empty for none
--   BENCH_TOKEN   bearer token (empty: no Authorization header)
--   BENCH_ID_START, BENCH_ID_COUNT  ids used: sequential from START (each once) or
--   BENCH_ID_MODE "rand" (uniform over START .. START+COUNT-1)
--   BENCH_IDEM    "1": a fresh Idempotency-Key per request (prefix BENCH_RUN)
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local start = tonumber(os.getenv("BENCH_ID_START") or "1")
local count = tonumber(os.getenv("BENCH_ID_COUNT") or "1")
local mode = os.getenv("BENCH_ID_MODE") or "seq"
local idem = os.getenv("BENCH_IDEM") == "1"
local run = os.getenv("BENCH_RUN") or "run"
local n = 0
math.randomseed(os.time())

request = function()
  local id
  if mode == "rand" then
    id = start + math.random(0, count - 1)
  else
    id = start + n
  end
  n = n + 1
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if body ~= "" then headers["Content-Type"] = "application/json" end
  if idem then headers["Idempotency-Key"] = run .. "-" .. n end
  local p = string.gsub(path, "{id}", tostring(id))
  local b = nil
  if body ~= "" then b = string.gsub(body, "{id}", tostring(id)) end
  return wrk.format(method, p, headers, b)
end
