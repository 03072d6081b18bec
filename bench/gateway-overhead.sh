#!/usr/bin/env bash
# Gateway overhead: requests/s and latency of a small authenticated GET (/api/v1/users/me/) through the Gateway and
# straight to the Api, in one run on one system. Uses wrk (Debian package wrk; installed when missing, as root).
# Usage: bench/gateway-overhead.sh [seconds per run, default 15] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
connections=${2:-32}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -q wrk >/dev/null; else echo "Install wrk: sudo apt-get install -y wrk" >&2; exit 1; fi
fi

dotnet build SitMessenger.AppHost -c Release -nologo -v q >/dev/null
state=$(mktemp -d /tmp/sit-bench-gateway-XXXXXX)
gateway_port=${GATEWAY_PORT:-18300}
dashboard_port=${DASHBOARD_PORT:-18301}
export DOTNET_HOST_PATH=${DOTNET_HOST_PATH:-$(command -v dotnet)}
log=$state/apphost.log
SitMessenger.AppHost/bin/Release/net10.0/SitMessenger.AppHost --state-dir "$state" --gateway-port "$gateway_port" \
  --gateway-https-port 0 --dashboard-port "$dashboard_port" --Services:gateway:RateLimits:Enabled=false >"$log" 2>&1 &
apphost=$!
trap 'kill -TERM $apphost 2>/dev/null; wait $apphost 2>/dev/null; rm -rf "$state"' EXIT

echo "Starting the system (state folder $state)..."
for _ in $(seq 1 600); do
  grep -q "All resources are healthy" "$log" && break
  kill -0 $apphost 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done

gateway=http://localhost:$gateway_port
api=$(curl -s "http://localhost:$dashboard_port/api/resources" | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin) if r["name"]=="api"][0]["endpoints"][0].rstrip("/"))')
user="bench_$RANDOM$RANDOM"
curl -s -o /dev/null -X POST "$gateway/api/auth/users/" -H 'content-type: application/json' -d "{\"username\":\"$user\",\"password\":\"Lantern-quay-7731\"}"
token=$(curl -s -X POST "$gateway/api/auth/jwt/create/" -H 'content-type: application/json' -d "{\"username\":\"$user\",\"password\":\"Lantern-quay-7731\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')

run() {
  local label=$1 url=$2
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url/api/v1/users/me/" > "$state/$label.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$state/$label.txt")
  p50=$(awk '$1=="50%" {print $2}' "$state/$label.txt")
  p99=$(awk '$1=="99%" {print $2}' "$state/$label.txt")
  printf "%-10s %12s %10s %10s\n" "$label" "$rps" "$p50" "$p99"
  echo "$rps" > "$state/$label.rps"
}

echo "GET /api/v1/users/me/ with a bearer token, ${connections} connections, ${seconds} s each ($(nproc) cores, wrk on the same machine)"
printf "%-10s %12s %10s %10s\n" "target" "requests/s" "p50" "p99"
run warmup "$gateway" >/dev/null
run direct "$api"
run gateway "$gateway"
python3 - "$state" <<'PY'
import sys
d = sys.argv[1]
direct = float(open(d + "/direct.rps").read())
gateway = float(open(d + "/gateway.rps").read())
print(f"gateway keeps {100 * gateway / direct:.0f}% of the direct throughput")
PY
