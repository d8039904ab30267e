"""Generators of hostile files (issue 21): each builds its files in code; none is committed as a blob."""
