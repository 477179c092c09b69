-- topic_create: ARGV t, project, id, cfg-json, retention-ms, now-ms
-- KEYS: topic-hash topic-log topic-subs project-topics all-topics audit-log
if not create_topic_keys(ARGV[1], KEYS, ARGV[4], ARGV[5], ARGV[6]) then
  return {'ALREADY_EXISTS'}
end
audit_add()
return {'OK'}
