-- pulled: ARGV project, since-ms, offset, count. Images pulled since
-- since-ms, most recent first: {ref, ms, ref, ms, ...}.
return redis.call('ZREVRANGEBYSCORE', 'rn:v1:reg:pulled:' .. ARGV[1], '+inf', ARGV[2],
  'WITHSCORES', 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[4]))
