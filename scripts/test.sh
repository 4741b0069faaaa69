#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up (idempotent), lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PURPBENCH_DATA_DIR=${PURPBENCH_DATA_DIR:-$(cd .. && pwd)/shared/data}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -ra "$@"
