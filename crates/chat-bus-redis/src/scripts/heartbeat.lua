-- Node ARGV[1] is alive now (by Redis's clock, so that nodes' clocks need not agree).
-- KEYS[1]: the sorted set of nodes by their last beat, in milliseconds; KEYS[2]: the epoch of
-- this Redis's presence data, set by the first beat that finds none (ARGV[2], random).
-- Returns { 1 when the node was not known (its first beat, it was reaped, or Redis lost its
-- data; the node then records its users again), 0 otherwise; the epoch }. A node that sees
-- the epoch change knows Redis lost everything (nobody was announced offline), not that it
-- was reaped (its users were).
local now = redis.call("TIME")
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local epoch = redis.call("GET", KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call("SET", KEYS[2], epoch)
end
return { redis.call("ZADD", KEYS[1], ms, ARGV[1]), epoch }
