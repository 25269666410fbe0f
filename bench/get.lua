-- wrk script: GET with headers from the environment (cookie, bearer token, HX-Request, If-None-Match), reporting
-- statuses.
local cookie = os.getenv("BENCH_COOKIE")
local etag = os.getenv("BENCH_ETAG")
local token = os.getenv("BENCH_TOKEN")

request = function()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  headers["HX-Request"] = "true"
  headers["User-Agent"] = "solo-oms-bench"
  if etag and etag ~= "" then headers["If-None-Match"] = etag end
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", nil, headers)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1000000))
end
