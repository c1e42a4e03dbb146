-- wrk script: POST one JSON body (BODY_FILE env, default request.json) to the path given by PATH_ env.
local f = assert(io.open(os.getenv("BODY_FILE") or "request.json", "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.path = os.getenv("REQ_PATH") or "/invocations"
