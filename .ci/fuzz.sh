#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (see Tests/Fuzz/). Builds the library targets instrumented
# (-sanitize=fuzzer) in a separate scratch folder, links one fuzzer per entry file, seeds each from the
# repository's samples and ../shared/data, and runs each for a fixed time.
#   bash .ci/fuzz.sh [seconds-per-target]      (default 30)
# Fails on any crash, hang (-timeout) or memory blow-up (-rss_limit_mb); the input that did it is
# left in .build-fuzz/findings/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-30}"
SCRATCH=.build-fuzz
SHARED=../shared/data

swift build -c release --scratch-path "$SCRATCH" --product SkillforgeFuzzKit -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

# The C modules the library's Swift modules import: libyaml (inside Yams), BoringSSL (inside
# swift-crypto) and the system libarchive.
CFLAGS=()
for m in "$SCRATCH"/checkouts/Yams/Sources/CYaml/include/module.modulemap \
         "$SCRATCH"/checkouts/swift-crypto/Sources/CCryptoBoringSSL*/include/module.modulemap \
         Sources/CArchive/module.modulemap; do
  CFLAGS+=(-Xcc "-fmodule-map-file=$PWD/$m" -Xcc "-I$PWD/$(dirname "$m")")
done

TARGETS=(native importers spec archive redact)
for t in "${TARGETS[@]}"; do
  swiftc -O -sanitize=fuzzer -parse-as-library -I "$BIN/Modules" -I "$BIN" "${CFLAGS[@]}" \
    "Tests/Fuzz/$t.swift" "$BIN/libSkillforgeFuzzKit.a" -larchive -lstdc++ -o "$SCRATCH/fuzz-$t"
done

# Seed corpora (fresh each run; never committed).
SEEDS="$SCRATCH/seeds"
rm -rf "$SEEDS" && mkdir -p "$SEEDS"/{native,importers,spec,archive,redact}
split -l 20 -d pipelines/samples/part-01.jsonl "$SEEDS/native/part01-"
split -l 20 -d pipelines/samples/part-02.jsonl "$SEEDS/native/part02-"
cp "$SEEDS"/native/* "$SEEDS/redact/"
cp pipelines/*.yaml pipelines/safety/*.yaml Tests/EngineTests/Fixtures/*.yaml "$SEEDS/spec/"
if [ -d "$SHARED" ]; then
  # Importer seeds: a selector byte (auto + the file's extension), then the file.
  n=0
  while IFS= read -r -d '' f; do
    case "$f" in
      *.jsonl) sel=15 ;; *.yaml|*.yml) sel=30 ;; *.traj) sel=45 ;; *) sel=0 ;;
    esac
    n=$((n + 1))
    { printf "\\$(printf '%03o' "$sel")"; head -c 262144 "$f"; } > "$SEEDS/importers/seed-$n"
  done < <(find "$SHARED/trajectories" "$SHARED/spark" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.yaml' -o -name '*.traj' \) -print0)
  # Archive seeds: the real skill bundles packed by the system tools in every format skillforge reads.
  for d in "$SHARED"/skills/*/; do
    name="$(basename "$d")"
    (cd "$d/.." && bsdtar -cf - "$name" | head -c 1048576) > "$SEEDS/archive/$name.tar" || true
    (cd "$d/.." && bsdtar --format zip -cf - "$name" | head -c 1048576) > "$SEEDS/archive/$name.zip" || true
    (cd "$d/.." && bsdtar -czf - "$name" | head -c 1048576) > "$SEEDS/archive/$name.tar.gz" || true
  done
  find "$SHARED/skills" -name SKILL.md -exec sh -c 'cp "$1" "$2/$(echo "$1" | md5sum | cut -c1-12).md"' _ {} "$SEEDS/redact" \;
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true but $SHARED is missing: fuzz seeds come from it" >&2; exit 1
else
  echo "NOTICE: $SHARED is not present; fuzzing from the repository's seeds only"
fi
# Inputs that once crashed a target (kept so the fix stays fixed).
for t in "${TARGETS[@]}"; do
  if [ -d "Tests/Fuzz/regressions/$t" ]; then cp "Tests/Fuzz/regressions/$t"/* "$SEEDS/$t/"; fi
done
if [ -d out/archives ]; then cp out/archives/*.skill out/archives/*.tar.gz out/archives/*.tar.zst "$SEEDS/archive/" 2>/dev/null || true; fi

declare -A MAXLEN=([native]=65536 [importers]=262144 [spec]=16384 [archive]=1048576 [redact]=65536)
total=0
for t in "${TARGETS[@]}"; do
  work="$SCRATCH/corpus/$t"; findings="$SCRATCH/findings/$t"
  rm -rf "$findings"; mkdir -p "$work" "$findings"
  log="$SCRATCH/fuzz-$t.log"
  # Swift's backtracer would take the crash signal before libFuzzer could save the input, so it is
  # off while fuzzing; the saved input is then replayed with it on, to print where it crashed.
  if ! SWIFT_BACKTRACE=enable=no "$SCRATCH/fuzz-$t" "$work" "$SEEDS/$t" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
       -max_len="${MAXLEN[$t]}" -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^==[0-9]+==|^(SUMMARY|MS:|artifact_prefix)|Fatal error' "$log" | head -20 >&2 || true
    for input in "$findings"/*; do
      [ -f "$input" ] || continue
      echo "--- $input ($(wc -c < "$input") bytes), first 2 KB as base64 (decode with base64 -d):" >&2
      head -c 2048 "$input" | base64 >&2
      echo "--- replayed with backtraces on:" >&2
      SWIFT_BACKTRACE=enable=yes,interactive=no,color=no "$SCRATCH/fuzz-$t" "$input" 2>&1 \
        | grep -E -A 24 'Fatal error|Program crashed|crashed:' | head -60 >&2 || true
    done
    echo "fuzz $t: FAILED; the input is in $findings/ (add it to Tests/Fuzz/regressions/$t/ once fixed)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  echo "fuzz $t: $runs executions in ${SECS}s, coverage $cov edges, corpus $(ls "$work" | wc -l) inputs, 0 crashes"
  total=$((total + runs))
done
echo "fuzz: $total executions over ${#TARGETS[@]} targets, 0 crashes, 0 hangs, 0 out-of-memory"
