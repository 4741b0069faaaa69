"""purpbench harness: run any model through the benchmark families and store scored rows."""

__version__ = "0.1.0"
