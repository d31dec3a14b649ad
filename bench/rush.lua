-- A registration rush for wrk: every request POSTs a valid registration form with its own email address,
-- reusing one session cookie and CSRF token fetched beforehand by bench/rush.py.
--
--   wrk -t2 -c32 -d20s --latency -s bench/rush.lua http://127.0.0.1:PORT -- PATH COOKIE BODY RUN ANSWER
--
-- PATH is the form's path (/e/<slug>/register), COOKIE the `session=…` pair, BODY the url-encoded fixed fields
-- (csrf_token, names, country, consent…), RUN a word that keeps this run's addresses apart from other runs',
-- ANSWER the path every valid POST is sent to (/e/<slug>/submitted, with a 303 See Other).
-- Email and submission key are made unique per request from RUN, the wrk thread's number and a counter.
-- done() prints one line `RUSH_JSON {...}` with the counts per HTTP status, how many answers were the 303 to
-- ANSWER ("answered"), and the latency percentiles (µs).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

local path, body, run, answer
local counter = 0
statuses = {}
answered = 0

function init(args)
   path, body, run, answer = args[1], args[3], args[4], args[5]
   wrk.headers["Cookie"] = args[2]
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
   counter = counter + 1
   local unique = run .. "-" .. thread_number .. "-" .. counter
   local fields = body .. "&email=rush-" .. unique .. "%40example.org&submission=" .. run .. "_" .. thread_number
      .. "_" .. counter
   return wrk.format("POST", path, nil, fields)
end

function response(status, headers, response_body)
   statuses[status] = (statuses[status] or 0) + 1
   local location = headers["Location"] or headers["location"] or ""
   -- Relative (Werkzeug's default) or absolute: the path must end the Location.
   if status == 303 and location:sub(-#answer) == answer then
      answered = answered + 1
   end
end

function done(summary, latency, requests)
   local merged, answers = {}, 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + count
      end
      answers = answers + thread:get("answered")
   end
   local parts = {}
   for status, count in pairs(merged) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'RUSH_JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, "answered": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, table.concat(parts, ", "), answers,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
