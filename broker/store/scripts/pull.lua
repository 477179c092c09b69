-- pull: ARGV s, now-ms, max, lease-ms (0: the subscription's ackDeadline)
-- KEYS: sub lease att retry
-- One atomic step: re-lease messages whose lease is due (dead-lettering
-- those past maxDeliveryAttempts), then read new ones. Replies
-- {'OK', topic, has-dlq, dead-lettered, id, data, attrs, key, attempt, id, ...}
-- or {'NOT_FOUND'}, or {'DETACHED'} (sub_detach).
local s = ARGV[1]
local now, max = tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'topic', 'ack', 'ret', 'dlq', 'maxatt', 'rmin', 'rmax',
  'flt', 'detached')
if not f[1] then return {'NOT_FOUND'} end
if f[9] == '1' then return {'DETACHED'} end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local topic = f[1]
if topic == '' then return {'OK', '', 0, 0} end
local ack, oldest, dlq, maxatt = tonumber(f[2]), now - tonumber(f[3]), f[4], tonumber(f[5])
local lease_ms = tonumber(ARGV[4]) or 0
if lease_ms > 0 then ack = lease_ms end
local rmin, rmax = tonumber(f[6]) or -1, tonumber(f[7]) or 0
local log, lease, att, retry = sub_log(topic, s, f[8]), KEYS[2], KEYS[3], KEYS[4]
local out = {'OK', topic, dlq ~= '' and 1 or 0, 0}
local leased = {}
local count = 0

local function fields(kv)
  local d, a, k = '', '', ''
  for i = 1, #kv, 2 do
    if kv[i] == 'd' then d = kv[i + 1]
    elseif kv[i] == 'a' then a = kv[i + 1]
    elseif kv[i] == 'k' then k = kv[i + 1] end
  end
  return d, a, k
end

local function drop(id)
  redis.call('XACK', log, s, id)
  redis.call('ZREM', lease, id)
  redis.call('HDEL', att, id)
  redis.call('HDEL', retry, id)
end

-- With a retryPolicy, a lease that expired waits out the backoff of the
-- attempt that failed before the message is delivered again; a nack
-- (modack 0) already scheduled that wait and set the mark.
local function backoff_pending(id, score)
  if rmin < 0 then return false end
  if redis.call('HDEL', retry, id) == 1 then return false end
  local n = tonumber(redis.call('HGET', att, id) or '0') + 1
  local due = score + retry_backoff(id, n, rmin, rmax)
  if due <= now then return false end
  redis.call('ZADD', lease, due, id)
  redis.call('HSET', retry, id, '1')
  return true
end

local function deliver(id, d, a, k, n)
  leased[#leased + 1] = now + ack
  leased[#leased + 1] = id
  out[#out + 1] = id
  out[#out + 1] = d
  out[#out + 1] = a
  out[#out + 1] = k
  out[#out + 1] = n
  count = count + 1
end

-- RFC 3339 from Unix ms (civil_from_days, Howard Hinnant).
local function rfc3339(ms)
  local secs = math.floor(ms / 1000)
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end

-- cjson writes '/' as '\/': valid JSON, but clients would show it raw.
local function encode(t)
  return (string.gsub(cjson.encode(t), '\\/', '/'))
end

-- Forwards to the dead-letter topic; false when that topic is gone (the
-- message then keeps being delivered rather than being lost).
local function dead_letter(id, d, a, k, attempts)
  if redis.call('EXISTS', tkey(dlq, 'topic')) == 0 then return false end
  local attrs = {}
  if a ~= '' then attrs = cjson.decode(a) end
  local p, sid = split_name(s)
  attrs['CloudPubSubDeadLetterSourceDeliveryCount'] = tostring(attempts)
  attrs['CloudPubSubDeadLetterSourceSubscription'] = sid
  attrs['CloudPubSubDeadLetterSourceSubscriptionProject'] = p
  attrs['CloudPubSubDeadLetterSourceTopicPublishTime'] = rfc3339(id_ms(id))
  topic_append(dlq, d, encode(attrs), k)
  redis.call('PUBLISH', 'rn:v1:wake:' .. dlq, '')
  return true
end

local due = redis.call('ZRANGEBYSCORE', lease, '-inf', now, 'WITHSCORES', 'LIMIT', 0, max)
for j = 1, #due, 2 do
  local id, score = due[j], tonumber(due[j + 1])
  local e = redis.call('XRANGE', log, id, id)
  if #e == 0 or id_ms(id) < oldest then
    drop(id)
  elseif backoff_pending(id, score) then
    -- not yet: rescheduled after the backoff
  else
    local n = redis.call('HINCRBY', att, id, 1) + 1
    local d, a, k = fields(e[1][2])
    if dlq ~= '' and n > maxatt and dead_letter(id, d, a, k, n - 1) then
      drop(id)
      out[4] = out[4] + 1
    else
      deliver(id, d, a, k, n)
    end
  end
end

if count < max then
  local r = redis.call('XREADGROUP', 'GROUP', s, 'rn', 'COUNT', max - count, 'STREAMS', log, '>')
  if r then
    local entries = r[1][2]
    -- Entries come in id order: if the first is within retention, all are.
    local check = #entries > 0 and id_ms(entries[1][1]) < oldest
    for _, e in ipairs(entries) do
      if check and id_ms(e[1]) < oldest then
        redis.call('XACK', log, s, e[1])
      else
        local d, a, k = fields(e[2])
        deliver(e[1], d, a, k, 1)
      end
    end
  end
end
if #leased > 0 then
  for i = 1, #leased, 1000 do
    redis.call('ZADD', lease, unpack(leased, i, math.min(i + 999, #leased)))
  end
end
return out
