-- wrk script: Pub/Sub v1 topics.publish of BATCH messages (environment
-- variable, default 1), each a 300-byte payload (the size of
-- bench/anchors/http/post300.lua's body), base64 in JSON:
-- {"messages":[{"data":"<400 base64 chars>"}, ...]} (426 bytes for one,
-- ~412 KB for 1000; msgs/s = Requests/sec x BATCH).
-- URL: http://127.0.0.1:PORT/v1/projects/P/topics/T:publish
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(v / 262144) % 64
    local c2 = math.floor(v / 4096) % 64
    local c3 = math.floor(v / 64) % 64
    local c4 = v % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
      (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local head = '{"type":"registry.event","source":"bench","data":"'
local tail = '"}'
local payload = head .. string.rep("x", 300 - #head - #tail) .. tail
assert(#payload == 300)
local data = b64(payload)
assert(#data == 400)
local batch = tonumber(os.getenv("BATCH") or "1")
-- ATTRS=1: every message also carries {"m":"0"} (the semantics suite's
-- filtered-topic rows: a filter on m sees something to evaluate).
local one = '{"data":"' .. data .. '"}'
if os.getenv("ATTRS") == "1" then
  one = '{"data":"' .. data .. '","attributes":{"m":"0"}}'
end
local msgs = {}
for i = 1, batch do msgs[i] = one end
wrk.body = '{"messages":[' .. table.concat(msgs, ",") .. ']}'
