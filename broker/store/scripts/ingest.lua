-- ingest: ARGV now-ms, dedup-ttl-s, create-topics ('1'|'0'), topic, n, then
-- KEYS: variable: per event, its reg-seen and reg-manifests keys
--   n x (event-id, op, project, repository, digest, data, attrs, ref)
-- Dedup, bookkeeping and appends of a whole envelope in one atomic step:
-- an event id already seen in the window produces nothing. Replies
-- {published, duplicates, ignored, rejected, dropped} where dropped
-- counts messages whose topic does not exist (creation disabled).
local now, ttl, create, topic = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local n = tonumber(ARGV[5])
local published, dups, ignored, rejected, dropped = 0, 0, 0, 0, 0
local woken = {}

local function topic_cfg(t)
  local p, id = split_name(t)
  return '{"name":"projects/' .. p .. '/topics/' .. id .. '","state":"ACTIVE"}'
end

local function ensure(t)
  if redis.call('EXISTS', tkey(t, 'topic')) == 1 then return true end
  if not create then return false end
  create_topic(t, topic_cfg(t), '0', now)
  return true
end

local function publish(project, tname, data, attrs)
  local t = project .. '/' .. tname
  if not ensure(t) then
    dropped = dropped + 1
    return
  end
  if tname == topic and create then
    -- Consumers can subscribe to rejects before the first one happens;
    -- scanners publish findings to the analysis topics (DESIGN §5).
    ensure(project .. '/registry-rejects')
    ensure(project .. '/container-analysis-notes-v1')
    ensure(project .. '/container-analysis-occurrences-v1')
    ensure(project .. '/container-analysis-reanalyze')
  end
  topic_append(t, data, attrs, '')
  woken[t] = true
  if tname == topic then published = published + 1 end
end

for i = 0, n - 1 do
  local b = 6 + i * 8
  local id, op, project, repo, digest = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local data, attrs, ref = ARGV[b + 5], ARGV[b + 6], ARGV[b + 7]
  local fresh = true
  if id ~= '' then
    fresh = redis.call('SET', KEYS[1 + i * 2], '1', 'NX', 'EX', ttl)
  end
  local manifests = KEYS[2 + i * 2]
  if not fresh then
    dups = dups + 1
  elseif op == 'insert' then
    redis.call('ZADD', manifests, now, digest)
    publish(project, topic, data, attrs)
  elseif op == 'publish' then
    publish(project, topic, data, attrs)
  elseif op == 'delete_digest' then
    if redis.call('ZREM', manifests, digest) == 1 then
      publish(project, topic, data, attrs)
    else
      ignored = ignored + 1 -- a blob, or a manifest we never saw
    end
  elseif op == 'pull' then
    redis.call('ZADD', manifests, now, digest)
    redis.call('ZADD', 'rn:v1:reg:pulled:' .. project, now, ref)
    redis.call('SADD', 'rn:v1:reg:pulled-projects', project)
    ignored = ignored + 1
  elseif op == 'reject' then
    publish(project, 'registry-rejects', data, attrs)
    rejected = rejected + 1
  else
    ignored = ignored + 1
  end
end
for t, _ in pairs(woken) do redis.call('PUBLISH', 'rn:v1:wake:' .. t, '') end
return {published, dups, ignored, rejected, dropped}
