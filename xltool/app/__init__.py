"""Stage 5, the applications: the command line (``cli``), the demo (``demo``) and the pages in the
browser (``serve``). Each is a thin layer over the library; nothing imports this package."""
