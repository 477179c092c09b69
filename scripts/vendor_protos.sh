#!/usr/bin/env bash
# Re-creates third_party/googleapis/ (the .proto files the gRPC endpoint is
# generated from; see its README.md) from where they were taken:
#   - google/pubsub/v1/*.proto: npm @google-cloud/pubsub (tests/google, pinned)
#   - google/api, google/iam, google/rpc, google/type: npm google-gax (its dependency)
#   - google/protobuf/*.proto: Debian 12's libprotobuf-dev (the protoc-c of
#     protobuf-c-compiler 1.4 is built on protobuf 3.21; google-gax's newer
#     descriptor.proto uses syntax it does not parse)
# Two edits, for protoc-c 1.4, which does not support proto3 "optional":
# the keyword is dropped from the only two such fields (their presence is
# not used). Run: bash scripts/vendor_protos.sh (needs npm ci in tests/google).
set -euo pipefail
cd "$(dirname "$0")/.."
NM=tests/google/node_modules
OUT=third_party/googleapis
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get download libprotobuf-dev >/dev/null && dpkg-deb -x libprotobuf-dev_*.deb deb)
WKT="$TMP/deb/usr/include"
rm -rf "$OUT/google"
python3 - "$NM" "$WKT" "$OUT" <<'PY'
import os, re, shutil, sys
nm, wkt, out = sys.argv[1:]
roots = [os.path.join(nm, "@google-cloud/pubsub/build/protos"),
         os.path.join(nm, "google-gax/build/protos")]
want = ["google/pubsub/v1/pubsub.proto", "google/pubsub/v1/schema.proto",
        "google/iam/v1/iam_policy.proto", "google/rpc/status.proto",
        "google/rpc/error_details.proto"]
def find(p):
    for r in ([wkt] if p.startswith("google/protobuf/") else roots):
        f = os.path.join(r, p)
        if os.path.exists(f):
            return f
    sys.exit("vendor_protos: %s not found" % p)
seen, todo = {}, list(want)
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen[p] = find(p)
    todo += re.findall(r'^import\s+(?:public\s+)?"([^"]+)";', open(seen[p]).read(), re.M)
for p, f in sorted(seen.items()):
    d = os.path.join(out, p)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    text = open(f).read()
    text = re.sub(r'^(\s*)optional (string delimiter = 1|int64 future_quota_value = 8)',
                  r'\1\2', text, flags=re.M)
    open(d, "w").write(text)
    print(p)
PY
