#!/usr/bin/env bash
# libFuzzer runs of the C plan parser and the statistics-segment join checks.
#   npm run fuzz                      # each target for FUZZ_SECONDS (default 30) seconds
#   FUZZ_SECONDS=3600 npm run fuzz    # longer; FUZZ_TARGETS="plan_parse" to pick targets
# Needs clang with libFuzzer (Debian: apt-get install clang). Seeds: test/fuzz/seeds/<target>
# (read-only); the growing corpus and any crash-* files go to build/fuzz/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
TARGETS=${FUZZ_TARGETS:-"plan_parse stats_join"}
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found (Debian: apt-get install clang)" >&2
  exit 2
fi
status=0
for t in $TARGETS; do
  out=build/fuzz/$t
  mkdir -p "$out/corpus"
  "$CC" -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I . "test/fuzz/$t.c" -o "$out/fuzz-$t"
  dict=()
  [ -f "test/fuzz/${t%%_*}.dict" ] && dict=("-dict=test/fuzz/${t%%_*}.dict")
  echo "fuzz: $t for ${SECONDS_EACH}s"
  if ! (cd "$out" && "./fuzz-$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -max_len=300000 \
        -print_final_stats=1 -artifact_prefix=./ "${dict[@]/#-dict=/-dict=../../../}" corpus "../../../test/fuzz/seeds/$t"); then
    echo "fuzz: $t FAILED (see $out/crash-* / timeout-* / oom-*)" >&2
    status=1
  fi
done
exit $status
