#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up (idempotent), the test server, lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# llama.cpp's OpenAI-compatible server, which the API and judge tests talk to (it alone offers
# grammar-constrained decoding). It is compiled from source (about 2 minutes on 2 cores, once;
# uv keeps the built wheel), so it is installed here and not by the five-minute set-up. Only
# the library and its server are built: llama.cpp's examples, tools and multimodal parts are not.
if ! .venv/bin/python -c "import llama_cpp.server.app" 2>/dev/null; then
  echo "test: building llama.cpp's server (llama-cpp-python 0.3.16, once)"
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF" \
    VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install --quiet -r requirements/test-server.lock.txt
fi
export PURPBENCH_DATA_DIR=${PURPBENCH_DATA_DIR:-$(cd .. && pwd)/shared/data}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -ra "$@"
