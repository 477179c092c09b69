-- publish: ARGV topic, wake-payload, then per message data, attrs, key
-- KEYS: topic-log topic-filters
-- ('' for no attributes / no orderingKey). Appends the messages to topic's
-- log, all or none (a missing topic stores nothing), copies each to the
-- filtered subscriptions whose filter it matches (prelude topic_append)
-- and wakes the topic's waiters on every broker. Replies {'OK', id...}
-- or {'NOT_FOUND'}. The hottest script: it gets only prelude_core.lua.
-- PRELUDE: core
local t = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
topic_live[t] = true
if redis.call('EXISTS', KEYS[2]) == 0 then topic_filters_seen[t] = {} end
local out = {'OK'}
if #topic_filters(t) == 0 then
  -- No filtered subscription (the common case): topic_append's work
  -- without its per-message calls and lookups (a fifth of this script's
  -- time for 1000 messages, docs/performance.md "Batched publish").
  local log, call, n = KEYS[1], redis.call, 1
  for i = 3, #ARGV - 2, 3 do
    local a, k = ARGV[i + 1], ARGV[i + 2]
    n = n + 1
    if a == '' and k == '' then
      out[n] = call('XADD', log, '*', 'd', ARGV[i])
    else
      out[n] = xadd_fields(log, '*', ARGV[i], a, k)
    end
  end
else
  for i = 3, #ARGV - 2, 3 do
    out[#out + 1] = topic_append(t, ARGV[i], ARGV[i + 1], ARGV[i + 2])
  end
end
redis.call('PUBLISH', 'rn:v1:wake:' .. t, ARGV[2])
return out
