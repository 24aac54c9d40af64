#!/usr/bin/env bash
# Training speed of this checkout against another revision, measured in pairs:
# `bucket-brigade bench train` of both started at the same time, each pinned to its own
# core (swapped every pair), so that both share whatever else the machine is doing.
# Prints each pair's learner steps/s and their ratio (this checkout / REV), then the median.
#
#   scripts/bench_pairs.sh REV [PAIRS] [STEPS]     e.g. scripts/bench_pairs.sh HEAD~1 10 300000
#
# Needs two cores, `taskset` and the project's .venv (`make install`).
set -euo pipefail
usage="Usage: scripts/bench_pairs.sh REV [PAIRS] [STEPS]  (defaults: 10 pairs of 300000 steps)"
fail() { echo "bench_pairs: $1" >&2; exit 2; }
case "${1:-}" in -h|--help) echo "$usage"; exit 0 ;; esac
[ $# -ge 1 ] && [ $# -le 3 ] || fail "expected REV [PAIRS] [STEPS], got $# arguments"
cd "$(dirname "$0")/.."
REV=$1
PAIRS=${2:-10}
STEPS=${3:-300000}
[[ $PAIRS =~ ^[1-9][0-9]*$ ]] || fail "bad PAIRS '$PAIRS': give a count >= 1"
[[ $STEPS =~ ^[1-9][0-9]*$ ]] || fail "bad STEPS '$STEPS': give a count >= 1"
git rev-parse --verify --quiet "$REV^{commit}" >/dev/null || fail "unknown revision '$REV'"
PYTHON=$PWD/.venv/bin/python
[ -x "$PYTHON" ] || fail "no .venv in $PWD: run make install first"
command -v taskset >/dev/null || fail "taskset not found (it comes with util-linux)"
OTHER=$(mktemp -d)
trap 'git worktree remove --force "$OTHER" >/dev/null 2>&1 || rm -rf "$OTHER"' EXIT
git worktree add --detach --force "$OTHER" "$REV" >/dev/null 2>&1

bench() {  # bench SRC CORE OUT: steps/s of one run of SRC's package on CORE
  PYTHONPATH=$1 taskset -c "$2" "$PYTHON" -c \
    "import sys; from bucket_brigade.cli import main; sys.exit(main())" \
    bench train --steps "$STEPS" --json > "$3"
}

# Compile (or load) both versions' kernels before timing anything.
bench "$OTHER/src" 0 /dev/null & bench "$PWD/src" 1 /dev/null & wait
ratios=()
for pair in $(seq "$PAIRS"); do
  core=$((pair % 2))
  bench "$OTHER/src" "$core" "$OTHER/rev.json" & bench "$PWD/src" $((1 - core)) "$OTHER/here.json" &
  wait
  ratio=$("$PYTHON" - "$OTHER/rev.json" "$OTHER/here.json" <<'EOF'
import json, sys
rev, here = (json.load(open(path))["steps_per_sec"] for path in sys.argv[1:])
print(f"{rev:10,.0f} {here:10,.0f} {here / rev:.3f}")
EOF
)
  echo "pair $pair: $REV, this checkout, ratio: $ratio"
  ratios+=("${ratio##* }")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR] = $1} END {
  m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "median ratio %.3f (%.3f to %.3f) over %d pairs\n", m, r[1], r[NR], NR }'
