-- wrk body for the registry-ingest benchmark: one Distribution envelope per
-- request (a manifest push by tag, as docker-registry 2.8.2 sends it), with
-- a unique event id per request so dedup never short-circuits the store.
-- Set CONNECTION_CLOSE=1 in the environment to open a new TCP connection
-- for every request, as the registry does.
local counter = 0
local seed = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local close = os.getenv("CONNECTION_CLOSE") == "1"
local head = '{"events":[{"id":"'
local tail = '","timestamp":"2026-11-28T07:11:37.209304869Z","action":"push","target":{' ..
  '"mediaType":"application/vnd.oci.image.manifest.v1+json","size":401,' ..
  '"digest":"sha256:06b93fed4f7a2acfb4626f6c33a0026133d8f519cc2d99114302dc743f5e52db",' ..
  '"length":401,"repository":"team/e2e-app","url":"http://127.0.0.1:5000/v2/team/e2e-app/' ..
  'manifests/sha256:06b93fed4f7a2acfb4626f6c33a0026133d8f519cc2d99114302dc743f5e52db",' ..
  '"tag":"1.0"},"request":{"id":"446021bc-03c6-4fa5-8464-90ed7ce4e64c",' ..
  '"addr":"127.0.0.1:35162","host":"127.0.0.1:5000","method":"PUT",' ..
  '"useragent":"skopeo/1.9.3"},"actor":{},"source":{"addr":"vm:5000",' ..
  '"instanceID":"11813162-c73f-422d-9929-5391ec0c0029"}}]}'

request = function()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/vnd.docker.distribution.events.v1+json"}
  if close then headers["Connection"] = "close" end
  return wrk.format("POST", "/v1/registry/distribution", headers,
                    head .. seed .. "-" .. counter .. tail)
end
