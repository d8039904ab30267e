"""Stage 2, the rules: the definition's checked rules compiled once into numpy (``rulecheck``), which
pass a clean batch without pandas, and the pandera schema (``schema``) that explains, cell by cell,
what failed; ``narrative``: a published report's text against its own tables, and its required
parts. Imports the base modules and ``xltool.read`` only."""
