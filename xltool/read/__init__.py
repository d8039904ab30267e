"""Stage 1, reading: which files a run reads (``discover``), the container checked before any parser
(``safety``), an xltool workbook read cell by cell (``workbook``), every other source turned into a
``Document`` of grids (``sources``) and its figures placed by label (``spec``: the format's labels and
how a text matches them; ``regions``: the document's tables as entries and views; ``placer``: one table
placed; ``locate``: the tables found and the format chosen; ``from_document``: the record made;
``narrative``: its parts 一 to 六 found by their headings),
what a document is and whose (``identify``), the 明细 sheet read back (``detail``), many files read in turn
(``batch``), documents in bounded worker processes (``isolate``, with the limits in ``bounds``). ``dispatch.read_return`` is the one entry: a file in, a ``ReturnRecord`` out.

Imports only the base modules (``xltool.definition``, ``catalogue``, ``findings``, ``model``,
``errors``, ``text``, ``values``, ``totals``) and its own modules."""
