"""Stage 2, the rules: the definition's checked rules compiled once into numpy (``rulecheck``), which
pass a clean batch without pandas, and the pandera schema (``schema``) that explains, cell by cell,
what failed. Imports the base modules and ``xltool.read`` only."""
