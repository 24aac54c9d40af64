#!/usr/bin/env bash
# Create the project's virtual environment with a PyTorch build that fits this machine:
# CUDA where an NVIDIA GPU answers, the CPU build everywhere else.
set -euo pipefail
venv="${1:-.venv}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "install: $python is $("$python" --version 2>&1); Python >= 3.10 is required" >&2
    exit 2
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)

if "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "install: PyTorch $("$venv/bin/python" -c 'import torch; print(torch.__version__)') already present"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "install: NVIDIA GPU found, installing the CUDA build of PyTorch"
    "${pip[@]}" torch
elif "${pip[@]}" --no-index --no-deps "torch==2.13.0" 2>/dev/null; then
    echo "install: no GPU, installed the local CPU build of PyTorch 2.13.0"
else
    echo "install: no GPU, installing the CPU build of PyTorch"
    "${pip[@]}" torch --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
fi
"${pip[@]}" -e ".[dev]"
echo "install: done ($venv)"
