-- wrk script: client_credentials token requests authenticated with
-- private_key_jwt, each with the next unused assertion from the file named by
-- ASSERTIONS (one per line, made by bench/make_assertions). Use one wrk
-- thread (-t1): the assertions are single-use.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local prefix = "grant_type=client_credentials&client_assertion_type=" ..
  "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
local assertions = {}
for line in io.lines(os.getenv("ASSERTIONS")) do assertions[#assertions + 1] = line end
local next_index = 0
request = function()
  next_index = next_index + 1
  return wrk.format(nil, nil, nil, prefix .. (assertions[next_index] or "exhausted"))
end
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")
