#!/bin/bash
# Run the paper's grid as a Slurm job array: 90 tasks, each one shard of the preset.
#   sbatch scripts/slurm_sweep.sh            (from the course's root, after `make setup`)
# then, when every task has finished:
#   .venv/bin/python -m utils sweep merge data/sweep-paper sweeps/paper-shard-*
# A task that is killed (time limit, pre-emption) keeps its finished models:
# resubmit it with the same index and it carries on.
#SBATCH --job-name=superposition-sweep
#SBATCH --array=1-90
#SBATCH --cpus-per-task=2
#SBATCH --time=12:00:00
#SBATCH --output=sweeps/slurm-%A_%a.out
set -euo pipefail
N=90
.venv/bin/python -m utils sweep --preset paper --shard "${SLURM_ARRAY_TASK_ID}/${N}" \
    --out "sweeps/paper-shard-${SLURM_ARRAY_TASK_ID}" --quiet
