"""Stage 4, writing: templates (``template``), the consolidated workbook and its 明细 sheet
(``consolidation``, ``detail``), published returns (``publish``), annotated copies (``annotate``), the
validation report (``report``), documents imported as workbooks (``importer``), and the one way a file
is written (``files``: atomic write, a free name, an output never inside an input). Imports everything
before it (base, ``read``, ``rules``, ``validate``, ``previous``, ``roster``), never ``app``."""
