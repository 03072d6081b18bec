#!/usr/bin/env bash
# Start-up figures: time from launch to all-healthy for a cold start (empty state folder) and a warm one,
# and the resident memory of each resource's processes once idle. Prints a table; changes nothing outside a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build SitMessenger.AppHost -c Debug -nologo -v q >/dev/null
state=$(mktemp -d /tmp/sit-bench-startup-XXXXXX)
dashboard_port=${DASHBOARD_PORT:-18990}
gateway_port=${GATEWAY_PORT:-18991}
apphost=SitMessenger.AppHost/bin/Debug/net10.0/SitMessenger.AppHost
export DOTNET_HOST_PATH=${DOTNET_HOST_PATH:-$(command -v dotnet)}

# Resident memory (MiB) of a process and all its descendants.
tree_rss() {
  local pid=$1 total=0 child
  total=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    total=$((total + $(tree_rss "$child")))
  done
  echo "$total"
}

run_once() {
  local label=$1 log=$state/$1.log
  # What the launch profile sets for `dotnet run`, on this benchmark's own ports.
  ASPNETCORE_URLS=http://localhost:$dashboard_port ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:$((dashboard_port + 2)) \
    ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:$((dashboard_port + 3)) ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
    "$apphost" --state-dir "$state" --gateway-port "$gateway_port" --gateway-https-port 0 >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    if grep -q "All resources are healthy" "$log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "AppHost exited during start-up:"; cat "$log"; exit 1; fi
    sleep 0.1
  done
  local seconds
  seconds=$(grep -oE "healthy after [0-9.]+ s" "$log" | grep -oE "[0-9.]+")
  printf "%-6s start to all-healthy: %6s s\n" "$label" "$seconds"
  # The split: when the servers were healthy, when the migrator finished, when the last service was healthy.
  for resource in postgres cache messaging migrations api worker scheduler gateway; do
    at=$(grep -E "\] ${resource}-[a-z0-9]+ +(Running \(Healthy\)|Finished)" "$log" | head -1 | grep -oE "^\[ *[0-9.]+s\]" | tr -d '[] s' || true)
    printf "         %-11s up at %6s s\n" "$resource" "${at:-?}"
  done

  if [ "$label" = "warm" ]; then
    sleep 10 # let the services settle (JIT, first GCs) before reading memory
    echo
    printf "%-12s %8s %10s\n" "resource" "pid" "RSS (MiB)"
    printf "%-12s %8s %10s\n" "apphost" "$pid" "$(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 ))"
    curl -s "http://localhost:$dashboard_port/api/resources" \
      | python3 -c 'import json,sys; [print(r["name"], r["processId"]) for r in json.load(sys.stdin) if r["processId"]]' \
      | while read -r name rpid; do
          printf "%-12s %8s %10s\n" "$name" "$rpid" "$(( $(tree_rss "$rpid") / 1024 ))"
        done
  fi
  kill -TERM "$pid"
  wait "$pid" || true
}

echo "SIT Messenger start-up benchmark ($(nproc) cores, state folder $state)"
run_once cold
run_once warm
rm -rf "$state"
