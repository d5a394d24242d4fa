"""Benchmarks: scripts that print Communis figures beside the raw tools (docs/performance.md).

A package so the scripts share `bench._measure` and `bench._corpus` under one module name.
"""
