-- Forgets the nodes whose last beat is older than ARGV[1] milliseconds, and their users.
-- KEYS[1]: the sorted set of nodes; ARGV[2]: the key prefix ("{chat}").
-- Returns the users who were online on those nodes only: they went offline. The script runs
-- atomically, so that exactly one node gets each of them, however many reap at once.
local now = redis.call("TIME")
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local dead = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ms - tonumber(ARGV[1]))
local offline = {}
for _, node in ipairs(dead) do
  redis.call("ZREM", KEYS[1], node)
  local users = ARGV[2] .. ":node:" .. node .. ":users"
  for _, user in ipairs(redis.call("SMEMBERS", users)) do
    local nodes = ARGV[2] .. ":user:" .. user .. ":nodes"
    if redis.call("SREM", nodes, node) == 1 and redis.call("SCARD", nodes) == 0 then
      table.insert(offline, user)
    end
  end
  redis.call("DEL", users)
end
return offline
