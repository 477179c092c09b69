-- sub_delete: ARGV s
-- KEYS: sub lease att retry audit-log
if not delete_sub_keys(ARGV[1], KEYS) then return {'NOT_FOUND'} end
audit_add()
return {'OK'}
