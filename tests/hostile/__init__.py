"""Generators of hostile files: each builds, in code, a file made to exhaust a reader (no blobs committed)."""
