-- topic_create: ARGV t, project, id, cfg-json, retention-ms, now-ms
if not create_topic(ARGV[1], ARGV[4], ARGV[5], ARGV[6]) then return {'ALREADY_EXISTS'} end
return {'OK'}
