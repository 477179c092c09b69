-- seek: ARGV s, time-ms, now-ms
-- KEYS: sub lease att retry
-- Pub/Sub seek to a time: retained messages published at or after the time
-- become unacked, earlier ones acked. The group's last-delivered id moves
-- to just before the time (to the stream's end for a future time: the
-- backlog is purged), every pending entry is acked and every lease
-- dropped, so what is at or after the time is read afresh, once.
local s, t, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local topic = redis.call('HGET', KEYS[1], 'topic')
if not topic then return {'NOT_FOUND'} end
redis.call('HSET', KEYS[1], 'last', ARGV[3])
if topic == '' then return {'OK'} end
local log = tkey(topic, 'log')
while true do
  local p = redis.call('XPENDING', log, s, '-', '+', 1000)
  if #p == 0 then break end
  local ids = {}
  for i, e in ipairs(p) do ids[i] = e[1] end
  redis.call('XACK', log, s, unpack(ids))
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
local id = '$'
if t <= now then
  id = t > 0 and (string.format('%d', t - 1) .. '-18446744073709551615') or '0-0'
end
redis.call('XGROUP', 'SETID', log, s, id)
redis.call('PUBLISH', 'rn:v1:wake:' .. topic, '')
return {'OK'}
