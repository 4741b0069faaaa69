"""Sandboxed execution of untrusted generated code."""

from scorers.sandbox.command import CommandJob, CommandResult, run_command
from scorers.sandbox.executor import ExecJob, ExecResult, SandboxPool, run_job
from scorers.sandbox.isolation import Isolation, IsolationRefused, probe, require
from scorers.sandbox.limits import SandboxLimits

__all__ = [
    "CommandJob",
    "CommandResult",
    "ExecJob",
    "ExecResult",
    "Isolation",
    "IsolationRefused",
    "SandboxLimits",
    "SandboxPool",
    "probe",
    "require",
    "run_command",
    "run_job",
]
