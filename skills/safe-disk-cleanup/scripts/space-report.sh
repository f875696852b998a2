#!/usr/bin/env bash
# Lists the largest directories under DIR (default: the current directory) without changing anything.
set -euo pipefail

if [ "${1:-}" = "--help" ]; then
  echo "usage: $(basename "$0") [DIR]" >&2
  exit 2
fi
dir="${1:-.}"
df -h "$dir"
du -x -h -d 2 "$dir" 2>/dev/null | sort -h | tail -n 20
