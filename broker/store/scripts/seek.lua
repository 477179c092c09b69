-- seek: ARGV s, time-ms, now-ms
-- KEYS: sub lease att retry
-- Pub/Sub seek to a time: messages published before the time become acked;
-- retained messages published at or after it unacked. Acked messages are
-- retained only with the subscription's retainAckedMessages or the topic's
-- messageRetentionDuration:
-- - retained: every pending entry is acked and every lease dropped, the
--   group's last-delivered id moves to just before the time, so what is at
--   or after the time is read afresh, once (a filtered subscription's
--   stream is rebuilt from the topic's log first: topic retention lets a
--   seek go back to before the subscription existed);
-- - not retained: pending entries before the time are acked, those at or
--   after it are due again at once, and the last-delivered id only moves
--   forward (what was acked stays acked).
-- A future time purges the backlog either way.
local s, t, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'topic', 'flt', 'rack', 'eph', 'created', 'detached',
  'ord')
local topic = f[1]
if not topic then return {'NOT_FOUND'} end
if f[6] == '1' then return {'DETACHED'} end
redis.call('HSET', KEYS[1], 'last', ARGV[3])
if topic == '' then return {'OK'} end
local flt = f[2] or ''
local log = sub_log(topic, s, flt)
local lease, att, retry = KEYS[2], KEYS[3], KEYS[4]
local ord = f[7] == '1'
-- Ordering state starts afresh: batches and held-back messages are
-- rebuilt from what the seek leaves unacked.
if ord then ord_reset(s) end
local tret = tonumber(redis.call('HGET', tkey(topic, 'topic'), 'ret') or '0') or 0
-- regnotify's extension: an ephemeral subscription (`regnotify tail`'s,
-- label regnotify-ephemeral=true) treats what the topic's log still holds
-- as retained, so that tail --since replays it.
local eph = f[4] == '1'
local retained = f[3] == '1' or tret > 0 or eph
-- Without topic retention (or the extension) a subscription's retained
-- messages are those it received: none from before it existed.
if retained and tret == 0 and not eph and t <= now then
  local created = tonumber(f[5] or '0') or 0
  if t < created then t = created end
end
local before = t > 0 and (string.format('%d', t - 1) .. '-18446744073709551615') or '0-0'

local function ack(ids)
  redis.call('XACK', log, s, unpack(ids))
  redis.call('ZREM', lease, unpack(ids))
  redis.call('HDEL', att, unpack(ids))
  redis.call('HDEL', retry, unpack(ids))
end

-- Acks the pending entries up to id hi ('+': all).
local function ack_pending(hi)
  while true do
    local p = redis.call('XPENDING', log, s, '-', hi, 1000)
    if #p == 0 then break end
    local ids = {}
    for i, e in ipairs(p) do ids[i] = e[1] end
    ack(ids)
  end
end

-- Retained and future seeks empty the pending list: nothing read is left
-- unleased above 0-0 (pull.lua `lr`).
if t > now or retained then redis.call('HSET', KEYS[1], 'lr', '0-0') end
if t > now then
  ack_pending('+')
  redis.call('DEL', lease, att, retry)
  redis.call('XGROUP', 'SETID', log, s, '$')
elseif retained then
  ack_pending('+')
  redis.call('DEL', lease, att, retry)
  if flt ~= '' then
    -- The copies of the retained messages at or after the time that match.
    local prog = cjson.decode(flt)
    redis.call('DEL', log)
    redis.call('XGROUP', 'CREATE', log, s, '0-0', 'MKSTREAM')
    local src, from = tkey(topic, 'log'), (t > 0 and string.format('%d', t) or '0')
    while true do
      local e = redis.call('XRANGE', src, from, '+', 'COUNT', 1000)
      for _, m in ipairs(e) do
        local kv, a = m[2], ''
        for i = 1, #kv, 2 do if kv[i] == 'a' then a = kv[i + 1] end end
        if filter_eval(prog, attrs_table(a)) then
          redis.call('XADD', log, m[1], unpack(kv))
        end
      end
      if #e < 1000 then break end
      from = '(' .. e[#e][1]
    end
  else
    redis.call('XGROUP', 'SETID', log, s, before)
  end
else
  ack_pending(before)
  -- What is still pending at or after the time is delivered again now
  -- (ordered: also what was held back behind a batch, due in id order).
  local due = {}
  local pend = redis.call('XPENDING', log, s, '-', '+', 100000)
  for i, e in ipairs(pend) do
    due[#due + 1] = ord and (now - #pend + i) or now
    due[#due + 1] = e[1]
  end
  if ord then
    chunked(due, function(...) redis.call('ZADD', lease, ...) end)
  else
    chunked(due, function(...) redis.call('ZADD', lease, 'XX', ...) end)
  end
  redis.call('DEL', retry)
  -- Undelivered entries before the time are acked: the group moves past
  -- them, never back.
  if tonumber(group_last(log, s):match('^(%d+)')) < t then
    redis.call('XGROUP', 'SETID', log, s, before)
  end
end
redis.call('PUBLISH', 'rn:v1:wake:' .. topic, '')
return {'OK'}
