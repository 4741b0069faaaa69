"""CTI-Bench (Alam et al., NeurIPS 2024): cyber-threat-intelligence knowledge and reasoning.

Two of its tasks:
- `ctibench-mcq` (cti-mcq.tsv, 2500 rows): four-option questions on MITRE ATT&CK, CAPEC, CWE
  and CTI documents; scored by exact letter match. `subset` is the question's source
  (mitre-attack, capec, cwe, document), read from its URL column.
- `ctibench-rcm` (cti-rcm.tsv, 1000 rows): map a CVE description to the CWE at its root cause;
  scored by exact CWE id (`CWE-<n>`, leading zeros ignored) against the gold id. Sample ids are
  the CVE ids.

Upstream's own `Prompt` column is not used: every security-QA set is asked in this project's
wording, so the sets are comparable. Known defects in cti-mcq.tsv: 5 questions have an empty
option (shown with the remaining three; the one whose gold answer is the empty option is kept
as a scored error, see benchmarks/mcq_base.py), one repeats an option text, one gives its gold
letter in lower case. Licence: CC-BY-NC-SA-4.0, non-commercial use only.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.base import Benchmark, Metric
from benchmarks.mcq_base import ChoiceItem, MultipleChoiceBenchmark, make_item
from harness.core.data import DataFile
from harness.core.types import Message, Sample
from scorers.mcq import CweIdScorer, normalize_cwe

REPO = "xashru/cti-bench"
COMMIT = "57ce8c246e5fc66a16c6cef743f3a983831b90f0"
LETTERS = "ABCD"
SUBSETS = {"attack.mitre.org": "mitre-attack", "capec.mitre.org": "capec", "cwe.mitre.org": "cwe"}
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


def data_file(name: str, sha256: str) -> DataFile:
    return DataFile(
        mirror_path=f"ctibench/{name}",
        sha256=sha256,
        source_repo=f"github:{REPO}",
        revision=COMMIT,
        url=f"https://raw.githubusercontent.com/{REPO}/{COMMIT}/data/{name}",
    )


def read_tsv(path: Path, label: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows as dicts; a missing column or a row with the wrong number of fields is an error.

    Quotes are data here (upstream writes plain tab-separated text), so they are not parsed.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{label}: column(s) {', '.join(missing)} missing from {path.name}")
        rows = []
        for n, row in enumerate(reader):
            if None in row or any(v is None for v in row.values()):
                raise ValueError(f"{label} row {n}: wrong number of tab-separated fields")
            rows.append(row)
    return rows


def subset_of(url: str) -> str:
    host = urlparse(url.strip()).netloc.lower()
    return SUBSETS.get(host, host or "document")


def parse_mcq_rows(rows: list[dict[str, Any]], label: str = "ctibench-mcq") -> list[ChoiceItem]:
    return [
        make_item(
            f"{label} row {n}",
            str(n),
            row.get("Question"),
            {letter: row.get(f"Option {letter}") for letter in LETTERS},
            row.get("GT"),
            multi=False,
            metadata={"subset": subset_of(row.get("URL") or "")},
        )
        for n, row in enumerate(rows)
    ]


class CTIBenchMCQ(MultipleChoiceBenchmark):
    name = "ctibench-mcq"
    description = "CTI-Bench cyber threat intelligence MCQ (ATT&CK, CAPEC, CWE), accuracy"
    size_hint = 2500
    subject = "cyber threat intelligence"
    slices = ("subset",)
    data_files = {
        "questions": data_file(
            "cti-mcq.tsv", "11e0af8db2dae9706c6e79901d2390bcdf9746e8feccbd9ba10682df649bcc6a"
        )
    }

    def items(self) -> list[ChoiceItem]:
        columns = ("URL", "Question", *(f"Option {x}" for x in LETTERS), "GT")
        return parse_mcq_rows(read_tsv(self.files()["questions"].path, self.name, columns))


# -- root-cause mapping: CVE description -> CWE --------------------------------------------

RCM_CHAT = (
    "Which CWE (Common Weakness Enumeration) weakness is the root cause of the vulnerability "
    "described below? Justify your choice briefly, then finish your reply with a line that "
    "contains only the CWE ID, in the form CWE-<number>.\n\nCVE description: {description}"
)
# Ends inside the id so a base model only has to continue with digits (one line).
RCM_COMPLETION = (
    "Map the vulnerability described below to the CWE (Common Weakness Enumeration) weakness "
    "at its root cause.\n\nCVE description: {description}\nAnswer: CWE-"
)


def parse_rcm_rows(rows: list[dict[str, Any]], label: str = "ctibench-rcm") -> list[Sample]:
    samples = []
    seen: set[str] = set()
    for n, row in enumerate(rows):
        where = f"{label} row {n}"
        cve = _CVE.search(row.get("URL") or "")
        if not cve:
            raise ValueError(f"{where}: no CVE id in its URL {row.get('URL')!r}")
        if cve.group() in seen:
            raise ValueError(f"{where}: {cve.group()} occurs twice")
        seen.add(cve.group())
        description = (row.get("Description") or "").strip()
        if not description:
            raise ValueError(f"{where} ({cve.group()}): empty description")
        gold = normalize_cwe(row.get("GT") or "")
        if gold is None:
            raise ValueError(f"{where} ({cve.group()}): gold {row.get('GT')!r} is not a CWE id")
        samples.append(
            Sample(
                id=cve.group(),
                messages=[Message("user", RCM_CHAT.format(description=description))],
                completion_prompt=RCM_COMPLETION.format(description=description),
                target=gold,
                metadata={"cwe": gold},
            )
        )
    return samples


class CTIBenchRCM(Benchmark):
    name = "ctibench-rcm"
    family = "security-qa"
    description = "CTI-Bench root-cause mapping: CVE description -> CWE id, exact-match accuracy"
    size_hint = 1000
    default_max_tokens = 256
    metrics = (Metric("accuracy"), Metric("% answered", key="answered"))
    score_batch = 256
    data_files = {
        "mappings": data_file(
            "cti-rcm.tsv", "ed7d7fa79fc912c627f96e229eaa38b3c4b6be813d834d434580be6d4703d700"
        )
    }

    def load(self) -> list[Sample]:
        columns = ("URL", "Description", "GT")
        return parse_rcm_rows(read_tsv(self.files()["mappings"].path, self.name, columns))

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return ("\n",) if prompt_format == "completion" else ()

    def make_scorer(self) -> CweIdScorer:
        return CweIdScorer()
