"""Sample data for xltool: a reporting year of 汤旺县 and 嘉荫县 (伊春市). SAMPLE DATA, invented except
乌伊岭镇, whose figures are those of its published 2024 report. Shipped with the package for ``xltool demo``."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
