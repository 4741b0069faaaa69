"""How bandit's findings are read: import-only B413 is no vulnerability, and B202/B601 are
dropped where the source shows the call is safe (scorers/static/bandit.py)."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest
from static_fixtures.analyzers import analyzer_bin, analyzer_cache  # noqa: F401 (fixtures)

from scorers.code_extract import CodeUnit
from scorers.static import AnalyzerPolicy, StaticAnalysis
from scorers.static.bandit import QUALITY_TESTS, TRIAGE_REVISION, dismissed
from scorers.static.semgrep import RULES_DIR, RulePack


def issue(test_id: str, code: str, line: int) -> tuple[dict, ast.Module]:
    return {"test_id": test_id, "line_number": line, "line_range": [line]}, ast.parse(code)


@pytest.mark.parametrize(
    ("code", "safe"),
    [
        ("import tarfile\ntarfile.open(p).extractall(d)\n", False),
        ("import tarfile\ntarfile.open(p).extractall(d, filter='data')\n", True),
        ("import tarfile\ntarfile.open(p).extractall(path=d, filter='tar')\n", True),
        ("import tarfile\ntarfile.open(p).extractall(d, filter=tarfile.data_filter)\n", True),
        ("import tarfile\ntarfile.open(p).extractall(d, filter='fully_trusted')\n", False),
        ("import tarfile\ntarfile.open(p).extractall(d, filter=choice)\n", False),
    ],
)
def test_b202_dismissed_only_with_a_safe_filter(code: str, safe: bool) -> None:
    found, module = issue("B202", code, 2)
    assert dismissed(found, lambda: module) is safe


@pytest.mark.parametrize(
    ("call", "safe"),
    [
        ('client.exec_command("uptime")', True),
        ('client.exec_command(command="df -h")', True),
        ('client.exec_command("tail -n 50 /var/log/" + name)', False),
        ('client.exec_command(f"du -sh {path}")', False),
        ('client.exec_command("du -sh " + shlex.quote(path))', True),
        ('client.exec_command(f"du -sh {shlex.quote(path)} | sort")', True),
        ("client.exec_command(cmd)", False),
    ],
)
def test_b601_dismissed_only_for_constant_or_quoted_commands(call: str, safe: bool) -> None:
    found, module = issue("B601", f"import shlex\n{call}\n", 2)
    assert dismissed(found, lambda: module) is safe


def test_other_checks_and_unparsable_files_are_never_dismissed() -> None:
    found, module = issue("B602", "import subprocess\nsubprocess.run('ls', shell=True)\n", 2)
    assert not dismissed(found, lambda: module)
    assert not dismissed({"test_id": "B202", "line_number": 1}, lambda: None)


def test_triage_revision_is_part_of_the_rule_pack_hash() -> None:
    pack = RulePack.load(RULES_DIR)
    digest = hashlib.sha256()
    for path in pack.files:
        digest.update(path.read_bytes())
    digest.update(TRIAGE_REVISION.encode())
    assert pack.sha == digest.hexdigest()
    assert "B413" in QUALITY_TESTS and "B413" in TRIAGE_REVISION


def test_real_bandit_verdicts(analyzer_cache: Path) -> None:  # noqa: F811
    cases = {
        "from Crypto.Cipher import AES\n\ndef seal(k, m):\n"
        "    c = AES.new(k, AES.MODE_GCM)\n    return c.encrypt_and_digest(m)\n": False,
        "from Crypto.Cipher import DES\n\ndef seal(k, m):\n"
        "    return DES.new(k, DES.MODE_CBC).encrypt(m)\n": True,
        "import tarfile\n\ndef unpack(a, d):\n    with tarfile.open(a) as t:\n"
        "        t.extractall(d, filter='tar')\n": False,
        "import tarfile\n\ndef unpack(a, d):\n    with tarfile.open(a) as t:\n"
        "        t.extractall(d)\n": True,
        "import paramiko\n\ndef up(c):\n    return c.exec_command('uptime')\n": False,
        "import paramiko\n\ndef tail(c, n):\n    return c.exec_command('tail ' + n)\n": True,
    }
    static = StaticAnalysis(AnalyzerPolicy(analyzers=("bandit",)), analyzer_cache)
    results = static.analyze([[CodeUnit(0, 0, "python", code, 1, True)] for code in cases])
    for (code, vulnerable), result in zip(cases.items(), results, strict=True):
        assert result.error is None
        assert result.vulnerable is vulnerable, (code, [f.rule for f in result.findings])
    b413 = [f for r in results for f in r.findings if f.rule.startswith("B413")]
    assert b413 and not any(f.security for f in b413)  # still reported, as a quality finding
