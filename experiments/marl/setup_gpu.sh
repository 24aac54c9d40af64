#!/usr/bin/env bash
# One-time setup of a training box: install, check CUDA, compile the engine, smoke-test an env.
# Safe to run again: an up-to-date install is skipped and numba reuses its compiled kernels.
set -Eeuo pipefail

usage() {
    cat <<'EOF'
Usage: experiments/marl/setup_gpu.sh [--venv PATH] [--help]

Set up this machine for training, from anywhere inside the repository:
  1. install the project into a virtual environment (scripts/install.sh: the CUDA build
     of PyTorch where an NVIDIA GPU answers `nvidia-smi -L`, the CPU build elsewhere);
     skipped when the install is newer than pyproject.toml and scripts/install.sh
  2. report whether PyTorch can use CUDA, and on which device
  3. compile the Numba engine and run a batch of games (the kernels are cached on disk)
  4. smoke test: create an environment and play one game
  5. check that the trainer command starts

Options:
  --venv PATH   virtual environment to create or reuse (default: .venv in the repository)
  --help        show this help

Exits non-zero, naming the failed step, if any step fails.
EOF
}

venv=""
while [ "$#" -gt 0 ]; do
    case "$1" in
        --venv)
            [ "$#" -ge 2 ] || { echo "setup_gpu: --venv needs a PATH" >&2; exit 2; }
            venv=$2
            shift 2
            ;;
        --venv=*) venv=${1#--venv=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup_gpu: unknown argument '$1' (valid: --venv PATH, --help)" >&2; exit 2 ;;
    esac
done

# A relative --venv means relative to where the user stands, before we move to the root.
case "$venv" in
    "") ;;
    /*) ;;
    *) venv="$PWD/$venv" ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
venv=${venv:-$root/.venv}
python="$venv/bin/python"

step_name="starting"
trap 'echo "setup_gpu: FAILED during step \"$step_name\" (exit $?); fix the error above and run it again" >&2' ERR

step() {
    step_name=$1
    echo "==> $step_name"
}

gpu_present() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
}

step "install the project into $venv"
# Same stamp as the Makefile's install target, so `make` and this script agree on freshness.
stamp="$venv/.installed"
if [ -x "$python" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt scripts/install.sh ]; then
    echo "already installed (delete $stamp to force a reinstall)"
else
    bash scripts/install.sh "$venv"
    touch "$stamp"
fi

step "check CUDA"
"$python" - <<'EOF'
import torch

if torch.cuda.is_available():
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    print(f"CUDA: available on {names} (torch {torch.__version__}, CUDA {torch.version.cuda})")
else:
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU"
    print(f"CUDA: not available (torch {torch.__version__}, {build} build); training uses the CPU")
EOF
if gpu_present && ! "$python" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    echo "setup_gpu: nvidia-smi sees a GPU but PyTorch cannot use it: check the driver with" \
        "nvidia-smi, or delete $venv and run this script again for a CUDA build" >&2
    false
fi

step "compile and warm the engine"
"$python" - <<'EOF'
import time

from bucket_brigade.envs import make_vec_env

start = time.perf_counter()
env = make_vec_env(64, seed=0)
env.reset(seed=0)
for _ in range(50):
    env.step(env.action_space.sample())
print(f"engine: 64 games x 50 nights in {time.perf_counter() - start:.1f} s "
      "(first run compiles; later runs load numba's cache)")
EOF

step "smoke test: create an environment and play one game"
"$python" - <<'EOF'
import gymnasium

import bucket_brigade.envs  # noqa: F401  (registers BucketBrigade-v0)

env = gymnasium.make("BucketBrigade-v0", seed=0)
env.reset(seed=0)
env.action_space.seed(0)
nights, score, done = 0, 0.0, False
while not done:
    _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    nights, score, done = nights + 1, score + reward, terminated or truncated
print(f"env: BucketBrigade-v0 played one game: {nights} nights, learner score {score:.1f}")
EOF

step "check the trainer command"
"$venv/bin/bucket-brigade" train --help >/dev/null
mkdir -p experiments/marl/runs  # runs and their console logs go here
echo "bucket-brigade train: ok"

step_name="done"
echo "setup_gpu: ready. Start a run from $root with (see experiments/marl/README.md):"
# Quoted for the shell, so that a venv path with spaces or quotes pastes as one word.
printf "  nohup %q train --steps 1000000 --run-name NAME > experiments/marl/runs/NAME.log" \
    "$venv/bin/bucket-brigade"
echo " 2>&1 &"
