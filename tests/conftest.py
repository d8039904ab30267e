"""Fixtures and hooks only; shared helpers live in tests/helpers/ (``from helpers.returns import make_return``).

LibreOffice in the loop: ``libreoffice_recalc(src, out_dir)`` opens a workbook in headless
LibreOffice, recalculates every formula and saves it as .xlsx into ``out_dir`` (same file name),
returning the new path; ``libreoffice_recalc_all(srcs, out_dir)`` does many files in one call. Read the result with ``openpyxl.load_workbook(path, data_only=True)`` to
see what a spreadsheet program computes, or without ``data_only`` to see what it kept. Its private
profile always recalculates on load (helpers/libreoffice.py).

Tests that use it are marked ``@pytest.mark.libreoffice``; they are skipped only when ``soffice``
is not installed. The profile is shared by the session, so conversions run one at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.definitions import TINY_DEFINITION
from helpers.libreoffice import SOFFICE, convert, make_profile


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist every core already runs a test: OCR takes one thread each, not a core's
    share per reader (two readers of two threads on two cores take 2-3 times as long)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.setdefault("XLTOOL_OCR_THREADS", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip LibreOffice tests only when soffice is absent; where it exists they must run."""
    if SOFFICE:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI 中必须安装 LibreOffice（soffice），LibreOffice 测试不能跳过：见 .ci/run")
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def libreoffice_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's LibreOffice profile (always recalculates); used by one soffice call at a time."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    return make_profile(tmp_path_factory.mktemp("libreoffice-profile"))


@pytest.fixture(scope="session")
def libreoffice_recalc(libreoffice_profile: Path) -> Callable[[Path, Path], Path]:
    """``recalc(src, out_dir) -> Path``: open ``src`` in LibreOffice, recalculate, save as xlsx in ``out_dir``."""

    def recalc(src: Path, out_dir: Path) -> Path:
        (out,) = convert(libreoffice_profile, "xlsx", out_dir, [src])
        return out

    return recalc


@pytest.fixture(scope="session")
def libreoffice_recalc_all(libreoffice_profile: Path) -> Callable[[list[Path], Path], list[Path]]:
    """``recalc_all(srcs, out_dir) -> list[Path]``: ``libreoffice_recalc`` of many files in ONE soffice
    call (one start of LibreOffice); the stems must differ. Module fixtures use it to share the start."""

    def recalc_all(srcs: list[Path], out_dir: Path) -> list[Path]:
        return convert(libreoffice_profile, "xlsx", out_dir, srcs)

    return recalc_all


@pytest.fixture(scope="session")
def tiny_format():
    """A Format from TINY_DEFINITION (helpers/definitions.py)."""
    from xltool.definition import loads

    return loads(TINY_DEFINITION, "tiny-test.toml")
