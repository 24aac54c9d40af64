#!/usr/bin/env bash
# Create the project's virtual environment with a PyTorch build that fits this machine:
# CUDA where an NVIDIA GPU answers, the CPU build everywhere else (a tenth of the size).
# EXTRAS names the optional dependency groups to install (default: dev; CI adds ray and
# clients).
set -euo pipefail
venv="${1:-.venv}"
python="${PYTHON:-python3}"
extras="${EXTRAS:-dev}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "install: $python is $("$python" --version 2>&1); Python >= 3.10 is required" >&2
    exit 2
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
torch_version=("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))')

# A CPU build this machine's pip configuration offers locally (find-links, a local wheel
# directory): no download, and no version pinned here. Kept only if it is a +cpu build.
install_local_cpu_torch() {
    "${pip[@]}" --no-index --no-deps torch 2>/dev/null || return 1
    [[ "$("${torch_version[@]}")" == *+cpu ]] && return 0
    "$venv/bin/python" -m pip uninstall --quiet --yes torch
    return 1
}

if "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "install: PyTorch $("${torch_version[@]}") already present"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "install: NVIDIA GPU found, installing the CUDA build of PyTorch"
    "${pip[@]}" torch
elif install_local_cpu_torch; then
    echo "install: no GPU, installed the local CPU build of PyTorch $("${torch_version[@]}")"
else
    # uv knows where the CPU builds live (--torch-backend), so nothing here names an index.
    echo "install: no GPU, installing the CPU build of PyTorch with uv --torch-backend=cpu"
    "${pip[@]}" uv
    "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --torch-backend=cpu torch
fi
"${pip[@]}" -e ".[$extras]"
echo "install: done ($venv, PyTorch $("${torch_version[@]}"))"
