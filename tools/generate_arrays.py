"""The generator's vectorised helpers (tools/generate_data.py): categorical sampling, Arrow string arrays built
from byte templates (ids, dates, timestamps), nulls and replacements, in blocks where memory matters."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
EPOCH = date(1970, 1, 1)


SLOTS = 1 << 16  # resolution of categorical sampling
BLOCK = 1 << 22  # rows per block where a computation is done in blocks to save memory

TEXT_BAD_ROW_SHARE = 0.01
TYPED_BAD_ROW_SHARE = 0.001
TS_TEMPLATE = "####-##-## ##:##:##"
TS_ISO_TEMPLATE = "####-##-##T##:##:##+07:00"
DATE_TEMPLATE = "####-##-##"


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------

Rng = np.random.Generator


def _fold(text: str) -> str:
    """Strip Vietnamese diacritics (used on the small reference tables only)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in _fold(text).lower() if ch.isalnum())


def _day(d: date) -> int:
    return (d - EPOCH).days


def _bucket(edges: np.ndarray, u: np.ndarray, bins: int = 1 << 16) -> np.ndarray:
    """``searchsorted(edges, u, side="right") - 1`` for sorted ``edges`` and
    edges[0] <= u < edges[-1]; exact, but much faster than a binary search per value: a lookup
    table over equal-width bins gives a first guess that is then moved up where needed."""
    lo, hi = float(edges[0]), float(edges[-1])
    last = len(edges) - 2
    scale = bins / (hi - lo)
    starts = lo + np.arange(bins) / scale
    lut = np.minimum(np.searchsorted(edges, starts, side="right") - 1, last)
    out = np.empty(len(u), dtype=np.int64)
    for first in range(0, len(u), BLOCK):  # in blocks: the temporaries stay small
        part = u[first:first + BLOCK]
        idx = lut[np.minimum(((part - lo) * scale).astype(np.int64), bins - 1)]
        todo = np.flatnonzero(part >= edges[idx + 1])
        while len(todo):  # loops once per extra edge inside a bin, not per row
            idx[todo] += 1
            todo = todo[part[todo] >= edges[idx[todo] + 1]]
        out[first:first + BLOCK] = idx
    return out


def _slot_table(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Spread 2**16 equally likely slots over the categories in proportion to ``weights``
    (largest-remainder rounding; every category with a positive weight gets a slot)."""
    p = np.asarray(weights, dtype=np.float64)
    raw = p / p.sum() * SLOTS
    counts = np.floor(raw).astype(np.int64)
    counts[(p > 0) & (counts == 0)] = 1
    short = SLOTS - int(counts.sum())
    if short > 0:
        counts[np.argsort(counts - raw, kind="stable")[:short]] += 1
    while short < 0:  # only possible after forcing tiny weights up to one slot
        big = int(np.argmax(counts))
        take = min(-short, int(counts[big]) - 1)
        counts[big] -= take
        short += take
    return np.repeat(np.arange(len(p)), counts)


def _slots(rng: Rng, size: int) -> np.ndarray:
    return rng.integers(0, SLOTS, size=size, dtype=np.uint16)


def _sample(rng: Rng, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probabilities proportional to ``weights`` (2**-16 precision)."""
    return _slot_table(weights)[_slots(rng, size)]


def _sample_by_group(rng: Rng, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per row, draw a column index of ``probs[group[row]]`` (rows of probs are distributions)."""
    table = np.concatenate([_slot_table(row) for row in probs])
    return table[group * SLOTS + _slots(rng, len(group))]


def _str_array(values: Sequence[str | None]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _options_table(
    options: Sequence[Sequence[tuple[str | None, float]]],
) -> tuple[pa.Array, np.ndarray]:
    """Flatten per-group (string, weight) options into a string table and a probability matrix."""
    width = max(len(opts) for opts in options)
    strings: list[str | None] = []
    probs = np.zeros((len(options), width))
    for g, opts in enumerate(options):
        for j in range(width):
            if j < len(opts):
                strings.append(opts[j][0])
                probs[g, j] = opts[j][1]
            else:
                strings.append(None)
    return _str_array(strings), probs


def _pick_options(
    rng: Rng, group: np.ndarray, options: Sequence[Sequence[tuple[str | None, float]]]
) -> pa.Array:
    table, probs = _options_table(options)
    col = _sample_by_group(rng, group, probs)
    return table.take(pa.array(group * probs.shape[1] + col))


def _take(values: Sequence[str | None] | pa.Array, idx: np.ndarray) -> pa.Array:
    table = values if isinstance(values, pa.Array) else _str_array(values)
    return table.take(pa.array(idx, type=pa.int64()))


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None:
        return None, 0
    nulls = int(len(valid) - np.count_nonzero(valid))
    if nulls == 0:
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


@cache
def _digit_lut(width: int) -> np.ndarray:
    """ASCII digits of 0 .. 10**width - 1, zero-padded, one fixed-size item per number."""
    values = np.arange(10**width)
    out = np.empty((10**width, width), dtype=np.uint8)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = 48 + values % 10
        values //= 10
    item = {4: np.uint32, 2: np.uint16, 1: np.uint8}[width]
    return out.view(item).ravel()


def _concat_fields(n: int, parts: Sequence[bytes | np.ndarray]) -> np.ndarray:
    """Lay fixed-size parts (literal bytes, or arrays with one item per row) side by side.

    A packed structured array does the interleaving with fast strided copies; the result is
    an (n, width) uint8 matrix.
    """
    formats = [np.dtype(f"S{len(p)}") if isinstance(p, bytes) else p.dtype for p in parts]
    offsets = np.cumsum([0] + [f.itemsize for f in formats])
    names = [f"f{i}" for i in range(len(parts))]
    dtype = np.dtype(
        {"names": names, "formats": formats, "offsets": offsets[:-1].tolist(),
         "itemsize": int(offsets[-1])}
    )
    rec = np.empty(n, dtype=dtype)
    for name, part in zip(names, parts):
        rec[name] = part
    return rec.view(np.uint8).reshape(n, int(offsets[-1]))


def _template_bytes(template: str, values: np.ndarray) -> np.ndarray:
    """Format non-negative integers into a fixed-width ASCII template (``#`` = one digit).

    Returns an (n, width) uint8 matrix; digits come from lookup tables, up to four at a time.
    """
    tokens: list[str] = []  # literal runs and runs of '#', left to right
    for ch in template:
        if tokens and (ch == "#") == (tokens[-1][0] == "#"):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    rest = np.asarray(values, dtype=np.int64)
    parts: list[bytes | np.ndarray] = []
    for token in reversed(tokens):
        if token[0] != "#":
            parts.append(token.encode("ascii"))
            continue
        length = len(token)
        while length:
            k = 4 if length >= 4 else (2 if length >= 2 else 1)
            quotient = rest // 10**k
            parts.append(_digit_lut(k)[rest - quotient * 10**k])
            rest, length = quotient, length - k
    return _concat_fields(len(rest), parts[::-1])


def _from_bytes(buf: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """(n, width) uint8 matrix -> pyarrow string array (nulls where ``valid`` is False)."""
    n, width = buf.shape
    if n * width >= 2**31:
        raise ValueError("column too large for 32-bit string offsets; generate fewer customers")
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    bitmap, nulls = _validity(valid)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)), bitmap, nulls
    )


def _template(template: str, values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _from_bytes(_template_bytes(template, values), valid)


def _int_str(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(values, dtype=np.int64), mask=None if valid is None else ~valid)
    return pc.cast(arr, pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    return _template(prefix + "#" * width, numbers, valid)


def _ymd(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 -> integer YYYYMMDD."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return (year * 100 + month) * 100 + dom


def _date_str(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _template(DATE_TEMPLATE, _ymd(days), valid)


@cache
def _clock_lut() -> np.ndarray:
    """'HH:MM:SS' for every second of the day (8 ASCII bytes each)."""
    secs = np.arange(DAY)
    hms = (secs // 3600) * 10_000 + (secs % 3600 // 60) * 100 + secs % 60
    return _template_bytes("##:##:##", hms).view(np.uint64).ravel()


def _ts_bytes(ts: np.ndarray, iso: bool) -> np.ndarray:
    if len(ts) == 0:
        return np.empty((0, len(TS_ISO_TEMPLATE if iso else TS_TEMPLATE)), dtype=np.uint8)
    days = ts // DAY
    secs = ts - days * DAY
    first = int(days.min())
    dates = _template_bytes(DATE_TEMPLATE, _ymd(np.arange(first, int(days.max()) + 1)))
    dates = dates.view("V10").ravel()
    parts: list[bytes | np.ndarray] = [dates[days - first], b"T" if iso else b" ",
                                       _clock_lut()[secs]]
    if iso:
        parts.append(b"+07:00")
    return _concat_fields(len(ts), parts)


def _ts_str(
    ts: np.ndarray, iso: np.ndarray | None = None, valid: np.ndarray | None = None
) -> pa.Array:
    """Seconds since epoch (local time) -> 'YYYY-MM-DD HH:MM:SS', ISO '+07:00' where ``iso``."""
    out = _from_bytes(_ts_bytes(ts, iso=False), valid)
    if iso is not None and iso.any():
        if valid is not None:
            iso = iso & valid
        out = pc.replace_with_mask(out, pa.array(iso), _from_bytes(_ts_bytes(ts[iso], iso=True)))
    return out


def _mix_templates(
    rng: Rng, templates: Sequence[tuple[str, float]], values: np.ndarray
) -> pa.Array:
    """Format each value with a randomly chosen template (templates may differ in width)."""
    which = _sample(rng, [w for _, w in templates], len(values))
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=len(templates))
    parts: list[pa.Array] = []
    start = 0
    for t, (template, _) in enumerate(templates):
        parts.append(_template(template, values[order[start:start + counts[t]]]))
        start += counts[t]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.arange(len(values))
    return pa.concat_arrays(parts).take(pa.array(inverse))


def _with_nulls(arr: pa.Array | pa.ChunkedArray, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), arr)


def _replace(arr: pa.Array, mask: np.ndarray, replacements: pa.Array) -> pa.Array:
    if not mask.any():
        return arr
    return pc.replace_with_mask(arr, pa.array(mask), replacements)


def _round_k(x: np.ndarray) -> np.ndarray:
    """Round VND amounts to the nearest 1,000."""
    return (np.rint(np.asarray(x, dtype=np.float64) / 1000.0) * 1000).astype(np.int64)


def _id_width(minimum: int, count: int) -> int:
    """Id width so that numbers up to 2*count+1000 (and the 'unknown' ids 99..9) fit."""
    return max(minimum, len(str(2 * count + 1000)))


def _unknown_ids(rng: Rng, prefix: str, width: int, k: int) -> pa.Array:
    """Ids that never exist: 'C9999999x'-style or numeric ids from the top of the id range."""
    numeric = _ids(prefix, 10**width - 1 - rng.integers(0, 500, size=k), width)
    literal = pa.scalar(prefix + "9" * width + "x", pa.string())
    return pc.if_else(pa.array(rng.random(k) < 0.5), literal, numeric)


def _choice_str(rng: Rng, values: Sequence[str], k: int) -> pa.Array:
    return _take(values, rng.integers(0, len(values), size=k))
