#!/usr/bin/env bash
# Fuzzes the pure protocol code with libFuzzer: the gRPC deframer, the gRPC call state machine and
# the /metrics request handler (targets in Fuzz/, seed corpora in Fuzz/Corpus/<target>/).
#
#   scripts/fuzz.sh [TARGET] [--runs N | --seconds S]   fuzz TARGET (default: every target),
#                                                       for N inputs or S seconds each (default 60 s)
#   scripts/fuzz.sh --write-seeds                       regenerate Fuzz/Corpus/* from the harnesses
#
# Builds with `-sanitize=fuzzer -D FUZZING` into .build-fuzz (debug, so bounds and overflow checks
# stay on). The seed corpus is copied to a temporary folder, so new inputs never land in the repo.
# A crash, a broken invariant or a hang (over 10 s for one input) fails the run and leaves the
# input in .build-fuzz/artifacts/; `.build-fuzz/debug/TARGET FILE` replays it with a backtrace.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(FuzzGRPCDeframer FuzzGRPCCall FuzzMetricsRequest)
targets=()
limit=(-max_total_time=60)
wall=120
write_seeds=false
while (($#)); do
  case "$1" in
    --runs)
      limit=(-runs="$2")
      # libFuzzer stops itself after N runs; the cap only guards against a stuck run.
      wall="${FUZZ_MAX_SECONDS:-7200}"
      shift 2
      ;;
    --seconds)
      limit=(-max_total_time="$2")
      wall=$(($2 + 60))
      shift 2
      ;;
    --write-seeds)
      write_seeds=true
      shift
      ;;
    Fuzz*)
      targets+=("$1")
      shift
      ;;
    *)
      echo "usage: $0 [${targets_all[*]}] [--runs N | --seconds S] | --write-seeds" >&2
      exit 2
      ;;
  esac
done
((${#targets[@]})) || targets=("${targets_all[@]}")

if $write_seeds; then
  # The plain build of a target replays inputs and writes its seeds.
  for target in "${targets[@]}"; do
    swift build --product "$target"
    rm -rf "Fuzz/Corpus/$target"
    mkdir -p "Fuzz/Corpus/$target"
    ".build/debug/$target" --write-seeds "Fuzz/Corpus/$target"
  done
  exit 0
fi

for target in "${targets[@]}"; do
  swift build --scratch-path .build-fuzz --product "$target" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
status=0
passed=0
failed=0
for target in "${targets[@]}"; do
  cp -R "Fuzz/Corpus/$target" "$work/$target"
  log="$work/$target.log"
  echo "== $target: ${limit[*]}"
  # SWIFT_BACKTRACE=enable=no leaves crash signals to libFuzzer, which then saves the input.
  if SWIFT_BACKTRACE=enable=no timeout --signal=INT --kill-after=30 "$wall" \
    ".build-fuzz/debug/$target" "$work/$target" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=.build-fuzz/artifacts/"$target"- -print_final_stats=1 >"$log" 2>&1; then
    result="no crash"
    passed=$((passed + 1))
  else
    result="FAILED (exit $?)"
    status=1
    failed=$((failed + 1))
    grep -E "invariant broken|Fatal error|ERROR: libFuzzer|Test unit written" "$log" | head -5 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/.*/cov \1, ft \2, corpus \3/p' <<<"$last")
  echo "$target: ${runs:-?} executions in ${seconds:-?} s (${cov:-no stats}): $result"
  if [[ $result != "no crash" ]]; then
    tail -40 "$log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit "$status"
