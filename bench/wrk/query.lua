-- wrk script: POST a query to the lakegate query API with a cached bearer token.
-- Environment: TOKEN (the access token), SQL (the statement).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
local sql = os.getenv("SQL") or "SELECT * FROM members LIMIT 10"
wrk.body = '{"query": "' .. sql:gsub('"', '\\"') .. '"}'
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")
