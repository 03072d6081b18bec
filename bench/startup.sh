#!/usr/bin/env bash
# Start-up figures for `dotnet run --project SitMessenger.AppHost`, the newcomer's command: time from the command to the
# Gateway answering, cold (empty state folder: initdb, RabbitMQ's first boot) and warm (the same folder again, the
# build up to date), split into build, DCP, servers and services; then the resident memory of each part once idle.
# Changes nothing outside a temporary folder.
set -euo pipefail
# Job control: the AppHost gets a process group of its own and, unlike a plain background job, does not ignore SIGINT,
# so the Ctrl+C below is the one a terminal sends.
set -m
cd "$(dirname "$0")/.."

dotnet build SitMessenger.AppHost -c Debug -nologo -v q >/dev/null
state=$(mktemp -d /tmp/sit-bench-startup-XXXXXX)
dashboard_port=${DASHBOARD_PORT:-18990}
gateway_port=${GATEWAY_PORT:-18991}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Seconds after the AppHost's start at which its progress line for a resource first showed it up.
up_at() {
  grep -E "\] $1(-[a-z0-9]+)? +(Running \(Healthy\)|Finished)" "$2" | head -1 | grep -oE "^\[ *[0-9.]+s\]" | tr -d '[] s' || true
}

# Running, not merely a zombie waiting for its parent to read its exit code.
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit ($3 == "Z" ? 0 : 1) }' "/proc/$1/stat" 2>/dev/null; }

# Every descendant's pid and what it is, one per line.
descendants() {
  local child
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$child $(tr '\0' ' ' 2>/dev/null <"/proc/$child/cmdline" | cut -c1-200)"
    descendants "$child"
  done
}

# Every process of the run: `dotnet run`, the AppHost, and DCP with what it started (DCP detaches from the AppHost, so
# it is found by the AppHost's pid it monitors).
run_processes() {
  local root=$1 apphost dcp
  echo "$root $(tr '\0' ' ' <"/proc/$root/cmdline" 2>/dev/null | cut -c1-200)"
  descendants "$root"
  for apphost in $(cat /proc/"$root"/task/*/children 2>/dev/null); do
    for dcp in $(pgrep -f "dcp start-apiserver --monitor $apphost( |$)" || true); do
      echo "$dcp dcp"
      descendants "$dcp"
    done
  done
}

# CPU seconds the run has used so far: each live process's own and its ended, reaped children's (utime, stime,
# cutime, cstime). Unlike the wall clock it hardly moves when other work shares the cores, so two runs on a busy machine
# can still be compared.
cpu_seconds() {
  local ticks=0 pid
  for pid in $(run_processes "$1" | awk '{print $1}'); do
    ticks=$((ticks + $(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] + f[14] + f[15] }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}

memory_table() {
  local root=$1 everything=0
  printf "\n%-14s %10s\n" "part" "RSS (MiB)"
  local part pattern pids total pid
  for part in api worker scheduler gateway postgres cache messaging dcp dashboard; do
    case $part in
      api) pattern='SitMessenger\.Api( |$|\.dll)' ;;
      worker) pattern='SitMessenger\.Worker( |$|\.dll)' ;;
      scheduler) pattern='SitMessenger\.Scheduler( |$|\.dll)' ;;
      gateway) pattern='SitMessenger\.Gateway( |$|\.dll)' ;;
      postgres) pattern='postgres' ;;
      cache) pattern='redis-server' ;;
      messaging) pattern='beam\.smp|epmd|erl_child_setup|inet_gethost' ;;
      dcp) pattern='/dcp |^[0-9]+ dcp$' ;;
      dashboard) pattern='Aspire\.Dashboard' ;;
    esac
    total=0
    # A part's own processes: those whose command line names it (the `dotnet run` wrappers are counted apart).
    for pid in $(run_processes "$root" | grep -E "$pattern" | grep -vE ' run --' | awk '{print $1}'); do
      total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
    done
    printf "%-14s %10s\n" "$part" "$((total / 1024))"
  done
  for pid in $(run_processes "$root" | awk '{print $1}'); do
    everything=$((everything + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  printf "%-14s %10s\n" "everything" "$((everything / 1024))"
}

run_once() {
  local label=$1 log=$state/$1.log started pid
  started=$(now)
  # The launch profile's settings on this benchmark's own ports, so it runs beside a developer's AppHost.
  ASPNETCORE_URLS=http://localhost:$dashboard_port ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:$((dashboard_port + 2)) \
    ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:$((dashboard_port + 3)) ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
    DOTNET_ENVIRONMENT=Development \
    dotnet run --project SitMessenger.AppHost --no-launch-profile -- \
      --state-dir "$state/folder" --gateway-port "$gateway_port" --gateway-https-port 0 >"$log" 2>&1 &
  pid=$!
  local answered="" cpu="" load_before
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  for _ in $(seq 1 1200); do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_port/api/v1/ping/?id=1" || true)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then answered=$(since "$started"); cpu=$(cpu_seconds "$pid"); break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "AppHost exited during start-up:"; cat "$log"; exit 1; fi
    sleep 0.1
  done
  [ -n "$answered" ] || { echo "the Gateway did not answer within 120 s; the AppHost's output is in $log"; exit 1; }

  # The Gateway can answer before its health check has passed; the split needs the AppHost's line for that.
  for _ in $(seq 1 300); do grep -q "All resources are healthy" "$log" && break; sleep 0.1; done

  # The AppHost's clock starts after the build: the difference is `dotnet run`'s build check and the AppHost's own start.
  local first_line servers services
  first_line=$(grep -m1 -oE "^\[ *[0-9.]+s\]" "$log" | tr -d '[] s')
  local apphost_seconds
  apphost_seconds=$(grep -oE "healthy after [0-9.]+ s" "$log" | grep -oE "[0-9.]+" || true)
  servers=0
  for resource in postgres cache messaging; do
    at=$(up_at "$resource" "$log"); servers=$(awk -v a="$servers" -v b="${at:-0}" 'BEGIN { print (b > a ? b : a) }')
  done
  printf "%-5s %-36s %6s s\n" "$label" "command to the Gateway answering" "$answered"
  printf "      %-36s %6s s\n" "CPU used by the run until then" "$cpu"
  printf "      %-36s %6s\n" "load average before / after" "$load_before / $(cut -d' ' -f1 /proc/loadavg)"
  printf "      %-36s %6s s\n" "build check + AppHost start" \
    "$(awk -v a="$answered" -v b="${apphost_seconds:-0}" 'BEGIN { printf "%.1f", a - b }')"
  printf "      %-36s %6s s\n" "DCP up (first resource starting)" "${first_line:-?}"
  printf "      %-36s %6s s\n" "servers healthy (all three)" "$servers"
  for resource in postgres cache messaging migrations api worker scheduler gateway; do
    printf "        %-34s %6s s\n" "$resource up" "$(up_at "$resource" "$log")"
  done
  printf "      %-36s %6s s\n" "all healthy (AppHost's clock)" "${apphost_seconds:-?}"

  if [ "$label" = "warm" ]; then
    sleep 10 # let the services settle (JIT, first GCs) before reading memory
    memory_table "$pid"
  fi
  local everyone left stopped
  everyone=$(run_processes "$pid" | awk '{print $1}')
  kill -INT -- "-$pid"
  stopped=$(now)
  for _ in $(seq 1 300); do
    left=""
    for p in $everyone; do if alive "$p"; then left="$left $p"; fi; done
    [ -n "$left" ] || break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    printf "      Ctrl+C left processes running after 30 s:\n"
    for p in $left; do printf "        %s %s\n" "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-120)"; done
    echo
  else
    printf "      %-36s %6s s\n\n" "Ctrl+C to every process gone" "$(since "$stopped")"
  fi
  wait "$pid" 2>/dev/null || true
}

echo "SIT Messenger start-up benchmark ($(nproc) cores, state folder $state)"
run_once cold
run_once warm
rm -rf "$state"
