-- pull: ARGV s, now-ms, max, lease-ms (0: the subscription's ackDeadline), per-key (0: any),
--   split ('1': the broker's XREADGROUP just read the new entries, in the same MULTI)
-- KEYS: sub lease att retry
-- One atomic step: re-lease messages whose lease is due (dead-lettering
-- those past maxDeliveryAttempts), then read new ones. Replies
-- {'OK', topic, has-dlq, dead-lettered, flags, cutoff-ms, id, data, attrs, key, attempt, id, ...}
-- or {'NOT_FOUND'}, or {'DETACHED'} (sub_detach). flags: 1 ordered, 2
-- exactly-once, 4 filtered (reads its own stream), 8 leases still due
-- (split only: the next pull should be a whole one). With ordering (`ord`,
-- prelude ob_key/oq_key): a key's messages go out one batch at a time, in
-- order; a due message of a key brings its whole outstanding batch along,
-- in order; a key's new messages wait behind its batch.
-- The split pull (store/messages.c, not for ordered subscriptions): Lua
-- would copy every entry twice (XREADGROUP's reply into Lua, then out:
-- two thirds of this script's time), so the broker sends
-- MULTI, XREADGROUP ... COUNT max, this script with split '1', EXEC, and
-- takes the new entries from XREADGROUP's reply. Here they are the pending
-- entries after `lr` (the last id any pull read: everything pending up to
-- it is leased): they are leased, those older than the retention (before
-- cutoff-ms) acknowledged (the broker skips them), and due leases fill
-- what is left of max. A whole pull first delivers what a split pull read
-- but could not lease (its script failed): nothing read is ever left
-- without a lease.
local s = ARGV[1]
local now, max = tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'topic', 'ack', 'ret', 'dlq', 'maxatt', 'rmin', 'rmax',
  'flt', 'detached', 'ord', 'eod', 'lr')
if not f[1] then return {'NOT_FOUND'} end
if f[9] == '1' then return {'DETACHED'} end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local topic = f[1]
if topic == '' then return {'OK', '', 0, 0, 0, 0} end
local split = ARGV[6] == '1'
local ack, oldest, dlq, maxatt = tonumber(f[2]), now - tonumber(f[3]), f[4], tonumber(f[5])
local lease_ms = tonumber(ARGV[4]) or 0
if lease_ms > 0 then ack = lease_ms end
local rmin, rmax = tonumber(f[6]) or -1, tonumber(f[7]) or 0
local log, lease, att, retry = sub_log(topic, s, f[8]), KEYS[2], KEYS[3], KEYS[4]
local ord = f[10] == '1'
-- Ordered: at most per_key messages of one key in this batch (push: 1).
local per_key = tonumber(ARGV[5]) or 0
if per_key <= 0 then per_key = max end
local nkey = {}
local held = {} -- ordered: key -> ids joining its batch (ord_flush at the end)
local flags = (ord and 1 or 0) + (f[11] == '1' and 2 or 0) + ((f[8] or '') ~= '' and 4 or 0)
local out = {'OK', topic, dlq ~= '' and 1 or 0, 0, flags, oldest}
local leased = {}
local count = 0
-- What was read last; nil: unknown (a subscription older than `lr`).
local lr = f[12]
if not lr then lr = group_last(log, s) end
local lr_read = lr

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
  if ord then ord_release(s, id) end
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

-- A due lease delivered again (or dead-lettered); e its stream entry.
local function redeliver(id, e)
  local n = redis.call('HINCRBY', att, id, 1) + 1
  local d, a, k = fields(e[1][2])
  if dlq ~= '' and n > maxatt and dead_letter(id, d, a, k, n - 1) then
    drop(id)
    out[4] = out[4] + 1
  else
    deliver(id, d, a, k, n)
    if ord and k ~= '' then ord_hold_later(held, id, k) end
  end
end

-- Read after lr and not leased: what this split pull's XREADGROUP read
-- (the broker delivers it), or what a split pull whose script failed read
-- (delivered here).
local unleased = redis.call('XPENDING', log, s, '(' .. lr, '+', max)
for _, p in ipairs(unleased) do
  local id = p[1]
  lr_read = id
  if id_ms(id) < oldest then
    redis.call('XACK', log, s, id)
  elseif split then
    leased[#leased + 1] = now + ack
    leased[#leased + 1] = id
    count = count + 1
  else
    local e = redis.call('XRANGE', log, id, id)
    if #e == 0 then
      redis.call('XACK', log, s, id)
    else
      local d, a, k = fields(e[1][2])
      deliver(id, d, a, k, 1)
    end
  end
end

local handled = {}
local due = redis.call('ZRANGEBYSCORE', lease, '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  math.max(max - count, 0))
for j = 1, #due, 2 do
  local id, score = due[j], tonumber(due[j + 1])
  if not handled[id] then
    local e = redis.call('XRANGE', log, id, id)
    local k = ''
    if ord and #e > 0 then k = select(3, fields(e[1][2])) end
    if #e == 0 or id_ms(id) < oldest then
      drop(id)
    elseif backoff_pending(id, score) then
      -- not yet: rescheduled after the backoff
    elseif k ~= '' then
      -- Ordered: the key's whole outstanding batch again, in order.
      local batch = redis.call('SMEMBERS', ob_key(s, k))
      batch[#batch + 1] = id
      table.sort(batch, id_less)
      for _, bid in ipairs(batch) do
        if not handled[bid] then
          handled[bid] = true
          local be = bid == id and e or redis.call('XRANGE', log, bid, bid)
          if #be == 0 or id_ms(bid) < oldest then drop(bid) else redeliver(bid, be) end
        end
      end
    else
      redeliver(id, e)
    end
  end
end

-- Ordered: keys whose batch was acked deliver their next held-back batch.
local opened = {}
if ord and count < max then
  for _, k in ipairs(redis.call('SMEMBERS', skey(s, 'okr'))) do
    if count >= max then break end
    redis.call('SREM', skey(s, 'okr'), k)
    if redis.call('SCARD', ob_key(s, k)) == 0 then
      local q = oq_key(s, k)
      local limit = math.min(max - count, per_key)
      local ids = redis.call('LRANGE', q, 0, limit - 1)
      if #ids < limit then redis.call('DEL', q) else redis.call('LTRIM', q, #ids, -1) end
      for _, packed in ipairs(ids) do
        -- Held back with its fields (no XRANGE to deliver it).
        local id, d, a = cmsgpack.unpack(packed)
        if id_ms(id) < oldest then
          redis.call('XACK', log, s, id)
        else
          deliver(id, d, a, k, 1)
          ord_hold_later(held, id, k)
          nkey[k] = (nkey[k] or 0) + 1
        end
      end
      if #ids < limit or redis.call('LLEN', q) == 0 then
        opened[k] = true
        if not held[k] then redis.call('SREM', skey(s, 'okeys'), k) end
      end
    end
  end
end

-- Ordered: whether a key has a batch out or messages held back, asked once
-- per key and pull; a key held back once stays so in this pull.
local busy = {}
local function key_busy(k)
  local b = busy[k]
  if b == nil then
    b = redis.call('EXISTS', ob_key(s, k), oq_key(s, k)) > 0
    busy[k] = b
  end
  return b
end

-- Reads up to n new entries; returns how many it read and how many of
-- them it delivered.
local function read_new(n)
  local r = redis.call('XREADGROUP', 'GROUP', s, 'rn', 'COUNT', n, 'STREAMS', log, '>')
  if not r then return 0, 0 end
  local entries = r[1][2]
  if #entries > 0 then lr_read = entries[#entries][1] end
  local before = count
  -- Entries come in id order: if the first is within retention, all are.
  local check = #entries > 0 and id_ms(entries[1][1]) < oldest
  for _, e in ipairs(entries) do
    if check and id_ms(e[1]) < oldest then
      redis.call('XACK', log, s, e[1])
    else
      local d, a, k = fields(e[2])
      if ord and k ~= '' and ((not opened[k] and key_busy(k)) or (nkey[k] or 0) >= per_key) then
        -- Behind its key's outstanding batch: held back, in order.
        redis.call('RPUSH', oq_key(s, k), cmsgpack.pack(e[1], d, a))
        if not busy[k] then redis.call('SADD', skey(s, 'okeys'), k) end
        busy[k] = true
      else
        deliver(e[1], d, a, k, 1)
        if ord and k ~= '' then
          opened[k] = true
          nkey[k] = (nkey[k] or 0) + 1
          ord_hold_later(held, e[1], k)
        end
      end
    end
  end
  return #entries, count - before
end

if split then
  -- Read already (XREADGROUP before this script).
elseif not ord then
  if count < max then read_new(max - count) end
else
  -- Ordered: in chunks, and no further once a chunk was all held back (its
  -- keys are out): a pull that comes before the acks of the last batch
  -- would otherwise read, and hold back, a whole batch it cannot deliver.
  while count < max do
    local got, delivered = read_new(math.min(100, max - count))
    if got == 0 or delivered == 0 then break end
  end
end
if ord then ord_flush(s, held) end
if lr_read ~= f[12] then redis.call('HSET', KEYS[1], 'lr', lr_read) end
if #leased > 0 then
  for i = 1, #leased, 1000 do
    redis.call('ZADD', lease, unpack(leased, i, math.min(i + 999, #leased)))
  end
end
-- Split: leases still due that did not fit make the next pull a whole one
-- (new messages must not starve redeliveries).
if split and count >= max and
  #redis.call('ZRANGEBYSCORE', lease, '-inf', now, 'LIMIT', 0, 1) > 0 then
  out[5] = out[5] + 8
end
return out
