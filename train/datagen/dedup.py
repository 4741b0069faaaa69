"""Near-duplicate removal and decontamination against the evaluation sets (datasketch MinHash).

A synthesised set is full of near-copies (one seed, several samples), which over-weight a few
prompts; and a training prompt that is (nearly) an evaluation prompt makes the later numbers
meaningless. Both are found the same way: MinHash signatures over word 3-gram shingles with
LSH at Jaccard 0.7 (PurpCode's threshold). Decontamination adds an exact long n-gram check
(13 words, the usual contamination probe), which catches an evaluation prompt pasted inside a
longer training prompt, where the Jaccard of the whole texts stays low.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

DEFAULT_THRESHOLD = 0.7
NUM_PERM = 128
SHINGLE = 3
CONTAMINATION_NGRAM = 13
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    tokens = words(text)
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


def signatures(texts: Sequence[str], num_perm: int = NUM_PERM) -> list[MinHash]:
    """MinHash of each text (same seed everywhere, so signatures are comparable)."""
    return MinHash.bulk([sorted(shingles(t)) for t in texts], num_perm=num_perm)


def dedup(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """Indices of the texts to keep: the first of each near-duplicate cluster, in order."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    keep: list[int] = []
    for n, sig in enumerate(signatures(texts)):
        if lsh.query(sig):
            continue
        lsh.insert(str(n), sig)
        keep.append(n)
    return keep


@dataclass
class ContaminationIndex:
    """The evaluation prompts, indexed once, to test many training prompts against."""

    threshold: float = DEFAULT_THRESHOLD
    ngram: int = CONTAMINATION_NGRAM
    sources: list[str] = field(default_factory=list)  # what each indexed text came from
    _lsh: MinHashLSH | None = None
    _ngrams: set[int] = field(default_factory=set)

    def add(self, texts: Iterable[str], source: str) -> int:
        """Index texts from one evaluation set; returns how many were added."""
        batch = [t for t in texts if t and t.strip()]
        if self._lsh is None:
            self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
        start = len(self.sources)
        for n, sig in enumerate(signatures(batch)):
            self._lsh.insert(str(start + n), sig)
        for text in batch:
            self._ngrams.update(_ngram_hashes(text, self.ngram))
        self.sources.extend([source] * len(batch))
        return len(batch)

    def match(self, texts: Sequence[str]) -> list[str | None]:
        """For each text, the evaluation set it overlaps with, or None when clean."""
        if self._lsh is None:
            return [None] * len(texts)
        out: list[str | None] = []
        for text, sig in zip(texts, signatures(texts)):
            hits = self._lsh.query(sig)
            if hits:
                out.append(self.sources[int(hits[0])])
            elif self._ngrams and not self._ngrams.isdisjoint(_ngram_hashes(text, self.ngram)):
                out.append("long n-gram overlap")
            else:
                out.append(None)
        return out


def _ngram_hashes(text: str, n: int) -> set[int]:
    tokens = words(text)
    return {hash(tuple(tokens[i : i + n])) for i in range(len(tokens) - n + 1)}
