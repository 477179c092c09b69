-- wrk script: topics.create of a new topic per request (PUT
-- /v1/projects/P/topics/bench-<thread>-<n>): admin writes, each of which
-- also writes its Admin Activity audit entry on commits that have them.
-- URL: http://127.0.0.1:PORT/v1/projects/P/topics/
local counter = 0
local prefix = "bench-" .. tostring(math.random(100000, 999999)) .. "-"
wrk.method = "PUT"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. prefix .. counter)
end
