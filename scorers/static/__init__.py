"""Static analysis of generated code: semgrep (project rule pack), bandit, CodeQL when present.

`StaticAnalysis(policy, cache_dir).analyze(batch)` runs each analyzer once over a whole batch
of code units and says, per sample, what was found and whether the policy calls it vulnerable.
"""

from scorers.static.analyze import SampleAnalysis, StaticAnalysis
from scorers.static.findings import SEVERITIES, Finding
from scorers.static.policy import AnalyzerPolicy

__all__ = ["SEVERITIES", "AnalyzerPolicy", "Finding", "SampleAnalysis", "StaticAnalysis"]
