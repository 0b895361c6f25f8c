-- Records whether node ARGV[1] holds a socket of user ARGV[2] (ARGV[3]: "1" or "0").
-- KEYS[1]: the node's set of users; KEYS[2]: the user's set of nodes.
-- Returns 1 when the user came online (their first node), -1 when they went offline (their
-- last node), 0 otherwise.
if ARGV[3] == "1" then
  redis.call("SADD", KEYS[1], ARGV[2])
  if redis.call("SADD", KEYS[2], ARGV[1]) == 1 and redis.call("SCARD", KEYS[2]) == 1 then
    return 1
  end
else
  redis.call("SREM", KEYS[1], ARGV[2])
  if redis.call("SREM", KEYS[2], ARGV[1]) == 1 and redis.call("SCARD", KEYS[2]) == 0 then
    return -1
  end
end
return 0
