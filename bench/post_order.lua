-- wrk script: POST a fresh order per request, each with its own Idempotency-Key and customer.
local counter = 0
local thread_id = 0
local skus = {}
for i = 1, 50 do skus[i] = string.format("BENCH-%03d", i) end

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

request = function()
  counter = counter + 1
  local n = tid * 10000000 + counter
  local sku = skus[(counter % #skus) + 1]
  local body = string.format(
    '{"customer": {"name": "Buyer %d", "email": "buyer%d@example.com", "address": {"line1": "%d High St", ' ..
    '"city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}}, "lines": [{"sku": "%s", "quantity": 1}], ' ..
    '"shipping": "3.95"}', n, n, counter, sku)
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  headers["Idempotency-Key"] = "bench-" .. n
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1000000))
end
