"""Hostile inputs for the tests, built in code (no blobs committed): documents, PDFs, zips and requests made to
exhaust what reads them. ``documents``: web pages and Word files; ``pdf``: PDF streams and pages; ``zips``:
zip parts; ``server``: requests to ``xltool serve``; ``isolation``: a PDF bomb behind a filter, for the isolated reader."""
