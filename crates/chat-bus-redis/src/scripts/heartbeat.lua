-- Node ARGV[1] is alive now (by Redis's clock, so that nodes' clocks need not agree).
-- KEYS[1]: the sorted set of nodes by their last beat, in milliseconds.
-- Returns 1 when the node was not known: its first beat, or it was reaped, or Redis lost its
-- data; the node then records its users again.
local now = redis.call("TIME")
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call("ZADD", KEYS[1], ms, ARGV[1])
