"""Shared test helpers: plain modules that test modules import (``from helpers.returns import
make_return``); ``tests/`` is on ``sys.path`` when pytest runs (rootdir conftest, no ``__init__.py``).

No test module imports another test module or ``conftest``; ``conftest.py`` holds only fixtures and
hooks (tests/test_library.py checks it).

- ``returns``: filled returns (``make_return``, ``type_values``, ``CONSISTENT``);
- ``libreoffice``: headless LibreOffice (``SOFFICE``, a private profile that always recalculates, ``convert``);
- ``markers``: ``needs_fork``;
- ``definitions``: ``TINY_DEFINITION``, a small definition that is not the 2021 format;
- ``documents``: published reports laid out from the definition (web pages, Word) and consistent fills;
- ``hostile``: containers written by hand (``raw_zip``, ``zip_entries``) and hostile files (``zip_bomb``);
- ``schema``: records and consistent fills for the pandera schema and the compiled rules;
- ``template``: ``assert_structure``, the golden structure of a generated template;
- ``imports``: the import graph of the ``xltool`` package;
- ``printed_labels``: the labels printed in the statutory format, apart from the definition;
- ``corpus``: the real reports of tests/corpus as cell ids, and the forms clerks keep of a page;
- ``printed_text``: a fill printed as tab-separated text and as markdown pipe tables.
"""
