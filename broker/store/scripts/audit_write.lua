-- audit_write: an entry on its own - Data Access, Policy Denied, a failed
-- call - with its sink exports in one step (prelude.lua audit_add).
-- KEYS: audit-log
audit_add()
return {'OK'}
