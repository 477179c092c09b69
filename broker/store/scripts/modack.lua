-- modack: ARGV s, now-ms, deadline-s, then pairs (entry-id, attempt).
-- KEYS: sub lease att retry
-- Moves the lease of each message still held by that delivery attempt;
-- 0 = nack (due now, or after the retryPolicy backoff). Stale ackIds are
-- ignored, as Pub/Sub does without exactly-once delivery, and so is a
-- lease that ran out or was nacked (due, or waiting out its backoff): a
-- client's receipt modack that races its own quick nack must not take
-- the message back (the client libraries send both as parallel calls).
-- With exactly-once delivery (`eod`) those are refused instead. Replies
-- {'OK', index...}: the 1-based indexes of the refused pairs.
local s = ARGV[1]
local f = redis.call('HMGET', KEYS[1], 'topic', 'rmin', 'rmax', 'detached', 'eod')
if not f[1] then return {'NOT_FOUND'} end
if f[4] == '1' then return {'DETACHED'} end
local now, dl = tonumber(ARGV[2]), tonumber(ARGV[3])
local rmin, rmax = tonumber(f[2]) or -1, tonumber(f[3]) or 0
local eod = f[5] == '1'
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local lease, att, retry = KEYS[2], KEYS[3], KEYS[4]
local bad = {'OK'}
for i = 4, #ARGV - 1, 2 do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  if lease_held(lease, att, retry, id, n, now) then
    local score = now + dl * 1000
    if dl == 0 and rmin >= 0 then
      score = now + retry_backoff(id, n, rmin, rmax)
      redis.call('HSET', retry, id, '1') -- the backoff is already in the score
    end
    redis.call('ZADD', lease, 'XX', score, id)
  elseif eod then
    bad[#bad + 1] = (i - 2) / 2
  end
end
return bad
