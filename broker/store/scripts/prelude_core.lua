-- prelude_core.lua: the helpers every script gets, prepended at build time
-- (embed.cmake): key names and the publish step (filters, topic_append).
-- A script whose third line is "-- PRELUDE: core" (publish, the hottest)
-- gets only these: each script run executes its whole prelude, defining
-- every local function again. The others get prelude.lua after them.
-- Key layout: docs/redis-schema.md. T = "project/topic", S = "project/sub".
local function tkey(t, suffix) return 'rn:v1:{' .. t .. '}:' .. suffix end
local function skey(s, suffix)
  if suffix then return 'rn:v1:sub:{' .. s .. '}:' .. suffix end
  return 'rn:v1:sub:{' .. s .. '}'
end
-- Filtered subscriptions (keys.h KEYS_TOPIC_FILTERS, KEYS_SUB_FLOG): the
-- topic's filters hash maps each filtered subscription S to its program
-- (client/common/filter.h filter_program), and S reads its own stream of
-- the topic's messages that match, under their topic entry ids. A
-- subscription's hash has `flt` = its program ('' or absent: none).
local function flog(t, s) return 'rn:v1:{' .. t .. '}:flog:' .. s end
local function sub_log(t, s, flt)
  if flt and flt ~= '' then return flog(t, s) end
  return tkey(t, 'log')
end

-- True when attributes a (a table of strings) satisfy program p.
local function filter_eval(p, a)
  local op = p[1]
  if op == 'and' then
    for i = 2, #p do
      if not filter_eval(p[i], a) then return false end
    end
    return true
  elseif op == 'or' then
    for i = 2, #p do
      if filter_eval(p[i], a) then return true end
    end
    return false
  elseif op == 'not' then
    return not filter_eval(p[2], a)
  end
  local v = a[p[2]]
  if type(v) ~= 'string' then v = nil end
  if op == 'has' then return v ~= nil
  elseif op == 'eq' then return v == p[3]
  elseif op == 'ne' then return v ~= p[3]
  elseif op == 'pfx' then return v ~= nil and v:sub(1, #p[3]) == p[3] end
  return false
end

-- The attributes JSON text a ('' for none) as a table; a text that does
-- not decode to an object has no attributes.
local function attrs_table(a)
  if a == '' then return {} end
  local ok, t = pcall(cjson.decode, a)
  if ok and type(t) == 'table' then return t end
  return {}
end

-- The filtered subscriptions of topic t, {stream, program} each, read once
-- per script run.
local topic_filters_seen = {}
local function topic_filters(t)
  local c = topic_filters_seen[t]
  if not c then
    c = {}
    local h = redis.call('HGETALL', tkey(t, 'filters'))
    for i = 1, #h, 2 do c[#c + 1] = {flog(t, h[i]), cjson.decode(h[i + 1])} end
    topic_filters_seen[t] = c
  end
  return c
end

-- Every publish to a topic goes through here (publish, ingest, dead-letter
-- forwarding, log sinks): appends the message to topic t's log - nil when
-- t does not exist (its stream exists exactly as long as it) - and copies
-- it, under the same entry id, to the stream of each filtered subscription
-- whose filter it matches. What does not match is never seen by that
-- subscription: acknowledged at once, never backlog. Returns the entry id.
-- (The hottest Lua of the broker: no tables per message, one EXISTS per
-- topic and script run.)
local function xadd_fields(key, id, d, a, k)
  if a ~= '' then
    if k ~= '' then return redis.call('XADD', key, id, 'd', d, 'a', a, 'k', k) end
    return redis.call('XADD', key, id, 'd', d, 'a', a)
  end
  if k ~= '' then return redis.call('XADD', key, id, 'd', d, 'k', k) end
  return redis.call('XADD', key, id, 'd', d)
end
local topic_live = {}
local function topic_append(t, d, a, k)
  local log = tkey(t, 'log')
  local live = topic_live[t]
  if live == nil then
    live = redis.call('EXISTS', log) == 1
    topic_live[t] = live
  end
  if not live then return nil end
  local id = xadd_fields(log, '*', d, a, k)
  local fl = topic_filters(t)
  if #fl > 0 then
    local at = attrs_table(a)
    for _, e in ipairs(fl) do
      if filter_eval(e[2], at) then xadd_fields(e[1], id, d, a, k) end
    end
  end
  return id
end

