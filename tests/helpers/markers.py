"""Markers shared by test modules."""

from __future__ import annotations

import os

import pytest

# tests that fork a process or measure a child with os.wait4 (POSIX only); skipped on Windows, the
# users' platform, where neither exists
needs_fork = pytest.mark.skipif(
    not (hasattr(os, "fork") and hasattr(os, "wait4")),
    reason="forks a child and reads its CPU time and peak memory with os.wait4: POSIX only (not on Windows)",
)
