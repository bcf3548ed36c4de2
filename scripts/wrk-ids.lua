-- wrk script for scripts/bench-load.sh: every request names the next conversation id of the
-- file $WRK_IDS (rotating, as fini-load does), with method $WRK_METHOD and key $WRK_KEY; at
-- the end it prints one JSON line of figures comparable with fini-load's.
local ids = {}
local i = 0
local method = os.getenv("WRK_METHOD") or "GET"
local auth = { ["Authorization"] = "Bearer " .. (os.getenv("WRK_KEY") or "") }

init = function(args)
	for line in io.lines(os.getenv("WRK_IDS")) do
		ids[#ids + 1] = line
	end
end

request = function()
	i = i % #ids + 1
	return wrk.format(method, "/v2/hc-interactions/" .. ids[i] .. "/public", auth)
end

done = function(summary, latency, requests)
	local seconds = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format(
		'{"tool":"wrk","requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d,"non_2xx":%d}\n',
		summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
		latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
