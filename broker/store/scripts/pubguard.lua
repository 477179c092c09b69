-- pubguard: the publish fast path's check (store/publish.c)
-- KEYS: topic-filters topic-pubguard
-- PRELUDE: none
-- Sent between WATCH topic-filters topic-pubguard and MULTI, XADD..., EXEC:
-- a topic with filtered subscriptions needs publish.lua (it copies each
-- message to the streams of the subscriptions it matches), so then this
-- writes the guard key, which makes that EXEC abort (nil) - nothing is
-- appended, and the broker sends the messages through publish.lua. A
-- filtered subscription created after the WATCH aborts it too. Replies 1
-- (aborting) or 0.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], '1', 'PX', 60000)
  return 1
end
return 0
