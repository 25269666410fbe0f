-- wrk script: the board polling itself as a browser does, with If-None-Match carrying the last ETag it was given.
-- The board's ETag turns over each minute (card ages move), so a poll that gets a 200 takes the new tag from it,
-- as the browser's cache would; with a fixed tag, every poll after the minute turned would be a full fragment.
-- BENCH_PAUSE_MS: each connection waits this long between polls (a board polls every few seconds; 0: flat out).
local cookie = os.getenv("BENCH_COOKIE")
local etag = os.getenv("BENCH_ETAG")
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")

if pause > 0 then
  delay = function()
    return pause
  end
end

request = function()
  local headers = {}
  headers["Cookie"] = cookie
  headers["HX-Request"] = "true"
  headers["User-Agent"] = "solo-oms-bench"
  headers["If-None-Match"] = etag
  return wrk.format("GET", nil, headers)
end

response = function(status, headers, body)
  if status == 200 and headers["ETag"] then
    etag = headers["ETag"]
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1000000))
end
