#!/usr/bin/env bash
# The test command: installs what the tests need, builds, runs every test project, prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-prerequisites.sh

dotnet build SitMessenger.sln -c Debug -warnaserror -nologo -v q

log=$(mktemp)
status=0
dotnet test SitMessenger.sln --no-build -c Debug --nologo 2>&1 | tee "$log" || status=$?

# One line CI can read however many test assemblies ran.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
