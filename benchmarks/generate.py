"""Filled returns for the benchmark: random but consistent figures, drawn by the real template code.

Each unit's file is written by ``xltool.write.template.draw_return(values=...)`` through
``write_workbook``: the same drawing code as ``xltool template``, with the unit's figures typed
into the input cells and the totals cached beside their formulas, as a spreadsheet saves them.
That is what a township sends back, minus the detour of opening the template in Excel.

Figures are derived from the definition, not from a list of cells: inputs are drawn at random
(most zero, some small, a few large, amounts with up to 6 decimals), cells of rules that require
zero for the unit's level are zeroed, then every same-year equation rule (T3-R1) is balanced by
raising one input on the short side. Every file therefore passes ``xltool validate`` with no
finding: the benchmark measures the common case, a province of correct returns.

Files are cached in a pool (``pool-s<seed>/``) shared by every N, keyed by the seed and the
format's fingerprint; ``returns-s<seed>-n<N>/`` holds hard links to the first N.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from xltool.definition import Format, get_format
from xltool.model import Unit
from xltool.values import AMOUNT_SCALE
from xltool.write.template import draw_return, template_identity, write_workbook

YEAR = 2024
GENERATOR_VERSION = "1"  # raise when the figures drawn for a unit change
LEVELS = (("乡镇", 40), ("街道", 10), ("部门", 50))  # share of units per level, in percent


def unit_of(i: int) -> Unit:
    """The i-th unit of the benchmark province: distinct codes, a realistic mix of levels."""
    county, k = divmod(i, 50)
    roll = random.Random(f"level:{i}").randrange(100)
    level = LEVELS[-1][0]
    for name, share in LEVELS:
        if roll < share:
            level = name
            break
        roll -= share
    return Unit(f"23{county:04d}{k:03d}", f"基准县{county + 1}第{k + 1}{level}单位", level)


def _draw_count(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.55:
        return 0
    if roll < 0.95:
        return rng.randint(1, 20)
    return rng.randint(21, 5000)


def figures(fmt: Format, unit: Unit, rng: random.Random) -> dict[str, int]:
    """Input values (amounts scaled by AMOUNT_SCALE) that satisfy every same-year rule."""
    from xltool.totals import recompute_totals

    values = {}
    for c in fmt.input_cells:
        if c.kind == "amount":
            values[c.id] = 0 if rng.random() < 0.5 else rng.randint(1, 200 * AMOUNT_SCALE)  # up to 200 万元, to the fen
        else:
            values[c.id] = _draw_count(rng)
    for inst in fmt.instances:
        if inst.rule.kind == "zero_for_levels" and unit.level in inst.rule.levels:
            for t in inst.lhs:
                values[t.cell] = 0
    equations = [i for i in fmt.instances if i.rule.kind == "equation" and not any(t.previous for t in i.lhs + i.rhs)]
    for _ in range(10):
        totals = recompute_totals(values, fmt)
        unbalanced = 0
        for inst in equations:
            lhs = sum(t.coef * totals[t.cell] for t in inst.lhs)
            rhs = sum(t.coef * totals[t.cell] for t in inst.rhs)
            if lhs == rhs:
                continue
            unbalanced += 1
            side = inst.lhs if lhs < rhs else inst.rhs
            term = next((t for t in side if t.cell in values and t.coef == 1), None)
            if term is None:  # only totals on that side: balanced once their parts are
                continue
            values[term.cell] += abs(lhs - rhs)
            totals = recompute_totals(values, fmt)
        if not unbalanced:
            return values
    raise RuntimeError(f"cannot balance the figures of {unit.code}")


def write_return(fmt: Format, i: int, seed: int, path: Path) -> Path:
    """Unit i's filled return, identical for the same (seed, i)."""
    unit = unit_of(i)
    rng = random.Random(f"{seed}:{i}")
    values = figures(fmt, unit, rng)
    cover = {"filled_by": f"填报人{i}", "phone": f"0458-{rng.randint(1000000, 9999999)}", "date": f"{YEAR + 1}-01-15"}
    keys = {f.key for f in fmt.cover.fields}
    cover = {k: v for k, v in cover.items() if k in keys}
    identity = template_identity(fmt, unit, YEAR)
    return write_workbook(path, lambda wb: draw_return(wb, fmt, identity, values=values, cover=cover))


def drawing_hash() -> str:
    """Changes when the template drawing code or the definition changes: the cache is then stale."""
    import xltool.write.template

    h = hashlib.sha256(Path(xltool.write.template.__file__).read_bytes())
    h.update(get_format().fingerprint.encode())
    return h.hexdigest()[:16]


def _pool_file(pool: Path, i: int) -> Path:
    return pool / f"{i:06d}.xlsx"


def _write_chunk(args: tuple[str, list[int], int]) -> int:
    pool, indices, seed = args
    fmt = get_format()
    for i in indices:
        write_return(fmt, i, seed, _pool_file(Path(pool), i))
    return len(indices)


def ensure_returns(out: Path, n: int, seed: int, jobs: int = 1, say=print) -> Path:
    """The folder of N filled returns for ``seed``, generating only the files not cached yet."""
    fmt = get_format()
    key = {"seed": seed, "fingerprint": fmt.fingerprint, "drawing": drawing_hash(), "generator": GENERATOR_VERSION}
    pool = out / f"pool-s{seed}"
    manifest = pool / "manifest.json"
    if pool.exists() and (not manifest.exists() or json.loads(manifest.read_text()) != key):
        say(f"  cache {pool} is from another template or generator: regenerating")
        shutil.rmtree(pool)
    pool.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(key))
    todo = [i for i in range(n) if not _pool_file(pool, i).exists()]
    if todo:
        say(f"  generating {len(todo)} returns into {pool} ({jobs} processes) ...")
        if jobs > 1 and len(todo) > 50:
            size = max(1, len(todo) // (jobs * 8))
            chunks = [(str(pool), todo[k : k + size], seed) for k in range(0, len(todo), size)]
            with ProcessPoolExecutor(jobs) as ex:
                list(ex.map(_write_chunk, chunks))
        else:
            _write_chunk((str(pool), todo, seed))
    folder = out / f"returns-s{seed}-n{n}"
    stamp = folder / ".benchmark.json"  # hidden: discover() skips it
    if stamp.exists() and json.loads(stamp.read_text()) == {**key, "n": n}:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i in range(n):
        src = _pool_file(pool, i)
        try:
            os.link(src, folder / src.name)
        except OSError:
            shutil.copy2(src, folder / src.name)
    stamp.write_text(json.dumps({**key, "n": n}))
    return folder
