-- sub_detach: ARGV s, now-ms
-- KEYS: sub lease att retry all-push audit-log
-- Pub/Sub's DetachSubscription: the subscription stops receiving from its
-- topic (it keeps its name, config and `topic`), its backlog and leases are
-- dropped, its pushes stop, and pulls, acks and modacks then answer
-- DETACHED (FAILED_PRECONDITION). Detaching twice is a no-op.
local s = ARGV[1]
local f = redis.call('HMGET', KEYS[1], 'topic', 'flt', 'detached')
local topic = f[1]
if not topic then return {'NOT_FOUND'} end
if f[3] ~= '1' then
  unhook_sub(s, KEYS, topic, f[2])
  redis.call('SREM', KEYS[5], s)
  redis.call('HSET', KEYS[1], 'detached', '1', 'last', ARGV[2])
end
audit_add()
return {'OK'}
