-- snap_delete: ARGV snapshot (P/N), id, now-ms
-- KEYS: snap snap-ids project-snaps audit-log
-- Deletes the snapshot and its index entries. {'OK'} or {'NOT_FOUND'}.
local f = redis.call('HMGET', KEYS[1], 'topic', 'expire')
if not f[1] then return {'NOT_FOUND'} end
delete_snapshot(ARGV[1], f[1])
if tonumber(f[2]) <= tonumber(ARGV[3]) then return {'NOT_FOUND'} end
audit_add()
return {'OK'}
