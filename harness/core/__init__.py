"""The ground floor: records, data files, the result schema, metric definitions and statistics.

Nothing here imports from the backends, scorers, benchmarks, the results store, the runner or
the command line; every other layer builds on it (see docs/architecture.md).
"""
