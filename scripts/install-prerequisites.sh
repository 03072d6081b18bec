#!/usr/bin/env bash
# Installs the Debian packages SIT Messenger runs and tests against, when they are missing.
set -euo pipefail

# pebble: Let's Encrypt's test ACME server (with pebble-challtestsrv), for the Gateway's certificate tests.
# chromium (+ chromium-driver, fonts-liberation): the headless browser the dashboard system tests drive through Playwright
# (never `playwright install`: it downloads a browser of its own, which fails here).
# kubernetes-client (kubectl) and docker-compose: the deploy tests validate the generated Kubernetes and Compose files
# with them (kubectl apply --dry-run=client -k, docker-compose config); neither needs a cluster or a container engine.
packages=(postgresql redis-server rabbitmq-server pebble chromium chromium-driver fonts-liberation kubernetes-client docker-compose)
missing=()
for package in "${packages[@]}"; do
  # Another kubectl (the Google Cloud SDK's, say) owns /usr/bin/kubectl, and Debian's package cannot unpack over it.
  if [ "$package" = kubernetes-client ] && command -v kubectl >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The packages' own services are not wanted: the AppHost runs private instances of each server.
apt-get install -y -q --no-install-recommends "${missing[@]}"
