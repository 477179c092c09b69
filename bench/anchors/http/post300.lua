-- Vendored from the team's shared bench kit (http/post300.lua there); unchanged but for this line.
-- wrk script: POST a 300-byte JSON body (size of a typical registry event).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local head = '{"type":"registry.event","source":"bench","data":"'
local tail = '"}'
wrk.body = head .. string.rep("x", 300 - #head - #tail) .. tail
assert(#wrk.body == 300)
