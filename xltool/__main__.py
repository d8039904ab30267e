"""Allow ``python -m xltool``."""

from xltool.app.cli import main

main()
