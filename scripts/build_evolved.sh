#!/usr/bin/env bash
# Rebuild the evolved strategies shipped in src/bucket_brigade/data/evolved/ (one per scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
bb="${BB:-.venv/bin/bucket-brigade}"
scenarios=$("$bb" scenarios --json | python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)))')
for scenario in $scenarios; do
    "$bb" evolve --scenario "$scenario" --seed 0 \
        --out "src/bucket_brigade/data/evolved/$scenario.json"
done
