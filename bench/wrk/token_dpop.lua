-- wrk script: client_credentials token requests with client_secret_basic and a
-- DPoP proof (RFC 9449), each with the next unused proof from the file named
-- by PROOFS (one per line, made by bench/make_dpop_proofs). Environment: AUTH
-- (the whole "Basic ..." header value). Use one wrk thread (-t1): the proofs
-- are single-use.
wrk.method = "POST"
wrk.headers["Authorization"] = os.getenv("AUTH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"
local proofs = {}
for line in io.lines(os.getenv("PROOFS")) do proofs[#proofs + 1] = line end
local next_index = 0
request = function()
  next_index = next_index + 1
  wrk.headers["DPoP"] = proofs[next_index] or "exhausted"
  return wrk.format()
end
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")
