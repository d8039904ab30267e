"""Hostile inputs for the tests: documents and requests built to exhaust what reads them."""
