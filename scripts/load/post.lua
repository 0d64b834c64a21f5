-- wrk: POST the GraphQL body named by WRK_BODY_FILE.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "r"))
wrk.body = file:read("*a")
file:close()
