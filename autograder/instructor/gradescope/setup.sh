#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, when the autograder is built.
# Written by `python -m autograder gradescope-zip`: the course's runtime dependencies, CPU PyTorch
# (Gradescope's machines have no GPU) and bubblewrap, the sandbox the grader uses where the
# container allows user namespaces (otherwise it falls back to resource limits and says so).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/opt/autograder-venv

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap ca-certificates
rm -rf /var/lib/apt/lists/*

# A virtual environment of its own: Ubuntu 24.04's system Python refuses pip (PEP 668).
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
# CPU wheels from PyTorch's index first, so that the next line never pulls a CUDA build from PyPI.
"$VENV/bin/python" -m pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "{{TORCH}}"
"$VENV/bin/python" -m pip install --no-cache-dir -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -c "import torch, numpy, pytest, safetensors; print('autograder environment ready: torch', torch.__version__)"
