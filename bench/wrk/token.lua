-- wrk script: an RFC 6749 client_credentials token request with client_secret_basic.
-- Environment: AUTH (the whole "Basic ..." header value), SCOPE (optional).
wrk.method = "POST"
wrk.headers["Authorization"] = os.getenv("AUTH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local scope = os.getenv("SCOPE")
wrk.body = "grant_type=client_credentials" .. ((scope and scope ~= "") and ("&scope=" .. scope) or "")
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")
