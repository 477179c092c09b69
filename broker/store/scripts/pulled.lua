-- pulled: ARGV project, since-ms, offset, count. Images pulled since
-- KEYS: reg-pulled
-- since-ms, most recent first: {ref, ms, ref, ms, ...}.
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[2],
  'WITHSCORES', 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[4]))
