#!/usr/bin/env bash
# Re-runs one test (or a whole test file) quietly, with the first failure's traceback in full.
set -euo pipefail

usage() {
  echo "usage: $(basename "$0") TEST_FILE [TEST_NAME]" >&2
}
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ] || [ "${1:-}" = "--help" ]; then usage; exit 2; fi

test_file="$1"
if [ "$#" -eq 2 ]; then
  python3 -m pytest "$test_file" -k "$2" -x -q --tb=long
else
  python3 -m pytest "$test_file" -q
fi
