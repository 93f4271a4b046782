#!/bin/bash
# Train the paper's grid (python -m utils sweep --preset paper) one alpha at a time, at low
# priority, into data/sweep-paper/shard-KK-of-17/ (KK = 01..17, the order of
# utils.sweep.paper_alphas(): every other alpha first, led by 1, 2 and 1.5).
#   bash scripts/paper_grid.sh            all 17 shards (about 20 hours on 2 CPU cores)
#   bash scripts/paper_grid.sh 1 9        shards 1 to 9 only (the half-grid)
# Stop it at any time and run it again: finished models are kept. The book reads
# data/sweep-paper as the merge of the shards that exist (utils.sweep.load).
# Commit each shard as it finishes:  git add data/sweep-paper/shard-KK-of-17
set -euo pipefail
cd "$(dirname "$0")/.."
FIRST=${1:-1}
LAST=${2:-17}
PY=${PYTHON:-.venv/bin/python}
for K in $(seq "$FIRST" "$LAST"); do
    OUT=$(printf "data/sweep-paper/shard-%02d-of-17" "$K")
    nice -n 19 "$PY" -m utils sweep --preset paper --shard "$K/17" --out "$OUT" --quiet
done
