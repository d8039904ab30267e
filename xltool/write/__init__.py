"""Stage 4, writing: templates (``template``), the consolidated workbook, its 明细 and 图表 sheets
(``consolidation``, ``detail``, ``charts``), published returns (``publish``) with their generated
paragraphs (``narrative_text``; figures named as the definition's [report.figures] names them), annotated copies
(``annotate``), the validation report (``report``), documents imported as workbooks (``importer``),
and the one way a file is written (``files``: atomic write, a free name, an output never inside an
input). Imports everything before it (base, ``read``, ``rules``, ``validate``, ``previous``,
``roster``), never ``app``."""
