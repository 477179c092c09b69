-- wrk script for bench/growth.sh (breadth): topics.publish of BATCH messages
-- (default 1) of 300 B, the body of bench/publish.lua, each request to the
-- next topic of a sample: PREFIX<i> for i = k*NT/S, k = 0..S-1 round robin
-- (env PREFIX, NT, S). URL: http://127.0.0.1:PORT/v1/projects/P/topics/
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = math.floor(v / 262144) % 64, math.floor(v / 4096) % 64
    local c3, c4 = math.floor(v / 64) % 64, v % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
      (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end
local head = '{"type":"registry.event","source":"bench","data":"'
local tail = '"}'
local payload = head .. string.rep("x", 300 - #head - #tail) .. tail
assert(#payload == 300)
local one = '{"data":"' .. b64(payload) .. '"}'
local batch = tonumber(os.getenv("BATCH") or "1")
local msgs = {}
for i = 1, batch do msgs[i] = one end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages":[' .. table.concat(msgs, ",") .. ']}'
local prefix = os.getenv("PREFIX") or "brd"
local nt = tonumber(os.getenv("NT") or "1")
local s = math.min(tonumber(os.getenv("S") or "1"), nt)
local paths = {}
for k = 0, s - 1 do
  paths[k + 1] = wrk.path .. prefix .. math.floor(k * nt / s) .. ":publish"
end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, paths[(counter % s) + 1])
end
