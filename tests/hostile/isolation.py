"""Hostile files for the bounded reading (``xltool.read.isolate``), and readers that misbehave on cue.

``hex_bomb_pdf`` is a real PDF whose page content inflates to gigabytes behind an ASCIIHex filter
(PDFium aborts the process that reads it when it runs out of memory). The pre-checks may learn to
see it; so isolation is also tested with readers that misbehave whatever the pre-checks do:
``install()`` wraps the document reader so that a file whose name holds ``hostile-memory``
allocates without end, ``hostile-sleep`` sleeps, ``hostile-abort`` aborts the process.
``hook_dir(folder)`` writes a ``sitecustomize.py`` that installs them in a command run with that
folder on its PYTHONPATH (and in its spawned workers, which import it too).
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path
from typing import Any

from hostile.pdf import pdf_file

MB = 1024 * 1024
TESTS = Path(__file__).resolve().parent.parent


def deflated_spaces(size: int, chunk: int = 4 * MB) -> bytes:
    """A zlib stream of ``size`` spaces (``size`` a multiple of ``chunk``), built without compressing
    them all: after a full flush the compressor forgets what it saw, so every further chunk of
    spaces compresses to the same bytes, which are repeated; the Adler-32 is computed."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    spaces = b" " * chunk
    first = z.compress(spaces) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(spaces) + z.flush(zlib.Z_FULL_FLUSH)
    end = z.flush(zlib.Z_FINISH)
    count = size // chunk
    a = (1 + 32 * size) % 65521  # Adler-32 of `size` bytes 0x20: a = 1 + Σ, b = Σ a_i
    b = (size + 32 * size * (size + 1) // 2) % 65521
    return b"\x78\xda" + first + again * (count - 1) + end + struct.pack(">I", (b << 16) | a)


def hex_bomb_pdf(inflated_mb: int = 3584) -> bytes:
    """A one-page PDF whose content stream, behind ``[/ASCIIHexDecode /FlateDecode]``, inflates to
    ``inflated_mb`` MB of spaces (3.5 GB by default; a 7 MB file)."""
    packed = deflated_spaces(inflated_mb * MB).hex().encode() + b">"
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Filter [/ASCIIHexDecode /FlateDecode] /Length %d >>\nstream\n" % len(packed)
            + packed
            + b"\nendstream",
        ]
    )


# --------------------------------------------------------------------------- readers that misbehave

MARKERS = ("hostile-memory", "hostile-sleep", "hostile-abort")
GIVE_UP_MB = 16 * 1024
"""``hostile-memory`` stops allocating here (untouched, so never resident): were the worker's limit
missing, the read would end normally and the test say so, the machine unharmed."""


def misbehave(name: str) -> None:
    if "hostile-memory" in name:
        blocks = [bytearray(64 * MB) for _ in range(GIVE_UP_MB // 64)]
        del blocks
    elif "hostile-sleep" in name:
        time.sleep(3600)
    elif "hostile-abort" in name:
        os.abort()


def install() -> None:
    """Wrap the readers of ``xltool.read.dispatch`` so that files named with a marker misbehave."""
    from xltool.read import dispatch

    for kind, reader in list(dispatch.READERS.items()):
        if getattr(reader, "hostile", False):
            continue

        def wrapped(rec: Any, formats: Any, options: Any, reader: Any = reader) -> None:
            misbehave(rec.path.name)
            reader(rec, formats, options)

        wrapped.hostile = True  # type: ignore[attr-defined]
        dispatch.READERS[kind] = wrapped


def hook_dir(folder: Path) -> Path:
    """A folder with a ``sitecustomize.py`` installing the misbehaving readers in any Python started
    with it on PYTHONPATH; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\nfrom hostile.isolation import install\ninstall()\n",
        encoding="utf-8",
    )
    return folder
