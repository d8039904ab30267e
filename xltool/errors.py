"""The few exceptions that stop a run. Problems with a returned workbook are findings, not these."""


class XltoolError(Exception):
    "Base of everything xltool raises on purpose; the CLI prints its message and exits 2."


class DefinitionError(XltoolError):
    "A statutory format definition is malformed; the message names the file and key."


class RosterError(XltoolError):
    "A roster file cannot be read or has a bad row; the message names the file and line."


class UsageError(XltoolError):
    "The arguments cannot be acted on (no such path, no workbook found, output equals input)."


class ConsolidationRefused(XltoolError):
    "Consolidation would be wrong (invalid or duplicate returns); nothing was written."
