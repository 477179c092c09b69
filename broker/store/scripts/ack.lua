-- ack: ARGV s, now-ms, then pairs (entry-id, attempt). Idempotent; unknown ids are ignored -
-- KEYS: sub lease att retry
-- except with exactly-once delivery (`eod`): then an ack counts only while
-- its lease is held (not due, not nacked) by that delivery attempt (the
-- latest ackId), and the others are refused. Replies {'OK', index...}: the
-- 1-based indexes of the refused pairs (none without exactly-once).
local s = ARGV[1]
local f = redis.call('HMGET', KEYS[1], 'topic', 'flt', 'detached', 'ord', 'eod')
local topic = f[1]
if not topic then return {'NOT_FOUND'} end
if f[3] == '1' then return {'DETACHED'} end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if topic == '' or #ARGV < 4 then return {'OK'} end
local now, eod = tonumber(ARGV[2]), f[5] == '1'
local log, lease, att, retry = sub_log(topic, s, f[2]), KEYS[2], KEYS[3], KEYS[4]
local ids, bad = {}, {'OK'}
for i = 3, #ARGV - 1, 2 do
  local id = ARGV[i]
  if eod and not lease_held(lease, att, retry, id, tonumber(ARGV[i + 1]), now) then
    bad[#bad + 1] = (i - 1) / 2
  else
    ids[#ids + 1] = id
  end
end
if #ids == 0 then return bad end
-- The attempt and retry hashes exist only after redeliveries.
local has_att = redis.call('EXISTS', att) == 1
local has_retry = redis.call('EXISTS', retry) == 1
chunked(ids, function(...)
  redis.call('XACK', log, s, ...)
  redis.call('ZREM', lease, ...)
  if has_att then redis.call('HDEL', att, ...) end
  if has_retry then redis.call('HDEL', retry, ...) end
end)
-- Ordered: the acked ids leave their keys' batches.
if f[4] == '1' then ord_release_many(s, ids) end
return bad
