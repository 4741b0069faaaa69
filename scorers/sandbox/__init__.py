"""Sandboxed execution of untrusted generated code."""

from scorers.sandbox.executor import ExecJob, ExecResult, SandboxPool, run_job
from scorers.sandbox.isolation import Isolation, probe
from scorers.sandbox.limits import SandboxLimits

__all__ = ["ExecJob", "ExecResult", "Isolation", "SandboxLimits", "SandboxPool", "probe", "run_job"]
