-- reanalyze: ARGV project ('' with KEYS[1] the lock: every project), now-ms, within-ms,
-- KEYS: target pulled-projects
--   wake-payload, lock-ms. target: reg:pulled:P, or the reanalyze lock.
-- Continuous analysis: one {"action":"REANALYZE","digest":HOST/REPO@DIGEST}
-- message per image pulled within the window, to the project's
-- container-analysis-reanalyze topic (created if missing). With project ''
-- (--reanalyze-interval) KEYS[1] is a lock taken for lock-ms, so that of
-- several brokers only one publishes per interval: {'LOCKED'} when held.
-- Replies {'OK', published}.
local p, now, within = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function one(project, pulled)
  local refs = redis.call('ZRANGEBYSCORE', pulled, now - within, '+inf')
  local t = project .. '/container-analysis-reanalyze'
  create_topic(t, '{"name":"projects/' .. project ..
    '/topics/container-analysis-reanalyze","state":"ACTIVE"}', '0', ARGV[2])
  local n = 0
  for _, ref in ipairs(refs) do
    -- HOST/REPO@DIGEST, validated at ingest to [A-Za-z0-9._:/@[]-]: no
    -- JSON escaping needed.
    local img, digest = ref:match('^(.+)@([^@]+)$')
    local registry, repo = (img or ''):match('^([^/]+)/(.+)$')
    if repo then
      topic_append(t, '{"action":"REANALYZE","digest":"' .. ref .. '"}',
        '{"action":"REANALYZE","repository":"' .. repo .. '","registry":"' .. registry ..
        '","digest":"' .. digest .. '"}', '')
      n = n + 1
    end
  end
  if n > 0 then redis.call('PUBLISH', 'rn:v1:wake:' .. t, ARGV[4]) end
  return n
end
if p ~= '' then return {'OK', one(p, KEYS[1])} end
if not redis.call('SET', KEYS[1], ARGV[4], 'NX', 'PX', ARGV[5]) then return {'LOCKED'} end
local total = 0
for _, project in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  total = total + one(project, 'rn:v1:reg:pulled:' .. project)
end
return {'OK', total}
