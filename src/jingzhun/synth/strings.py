"""Vectorised string building with numpy and pyarrow: labels, zero-padded numbers, ID numbers, phones.

No Python loop runs per row; every function takes and returns whole columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.ids.core import CHECK_CHARS, WEIGHTS

_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_CHECK = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)


def pick(labels: Sequence[str], idx: np.ndarray) -> pa.Array:
    """Labels taken by index; a negative index gives null.

    >>> pick(("甲", "乙"), np.array([1, -1, 0])).to_pylist()
    ['乙', None, '甲']
    """
    idx = np.asarray(idx)
    mask = idx < 0
    taken = pa.array(list(labels), pa.string()).take(pa.array(np.where(mask, 0, idx)))
    if mask.any():
        taken = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), taken)
    return taken


def yes_no(flags: np.ndarray) -> pa.Array:
    """是/否 as exports write booleans.

    >>> yes_no(np.array([True, False])).to_pylist()
    ['是', '否']
    """
    return pick(("否", "是"), np.asarray(flags, dtype=np.int64))


def zpad(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text.

    >>> zpad(np.array([7, 123]), 4).to_pylist()
    ['0007', '0123']
    """
    return pc.utf8_lpad(pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), width, "0")


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string columns and constants.

    >>> concat(pa.array(["a", "b"]), "-", pa.array(["x", "y"])).to_pylist()
    ['a-x', 'b-y']
    """
    return pc.binary_join_element_wise(*parts, "")


def from_bytes(matrix: np.ndarray) -> pa.Array:
    """Rows of an (n, k) uint8 matrix of ASCII codes as strings.

    >>> from_bytes(np.array([[52, 50], [49, 88]], dtype=np.uint8)).to_pylist()
    ['42', '1X']
    """
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, k = matrix.shape
    if n == 0:
        return pa.array([], pa.string())
    flat = pa.py_buffer(matrix.tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * k).tobytes())
    return pa.StringArray.from_buffers(n, offsets, flat)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of datetime64[D] values."""
    days = np.asarray(days, dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    years = days.astype("datetime64[Y]")
    return (
        years.astype(np.int64) + 1970,
        (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
        (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def id_digits(area: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """(n, 18) uint8 ASCII matrix of GB 11643 numbers: area code, birth date, sequence, check character.

    ``area`` holds 6-digit codes as integers.
    """
    y, m, d = ymd(birth)
    body = (
        np.asarray(area, dtype=np.int64) * 10**11
        + (y * 10000 + m * 100 + d) * 1000
        + np.asarray(seq, dtype=np.int64)
    )
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    digits = (body[:, None] // powers[None, :]) % 10
    check = _CHECK[(digits @ _WEIGHTS) % 11]
    out = np.empty((len(body), 18), dtype=np.uint8)
    out[:, :17] = digits + 48
    out[:, 17] = check
    return out


def id_numbers(area: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> pa.Array:
    """Valid 18-character ID numbers.

    >>> from jingzhun.ids import is_valid
    >>> ids = id_numbers(np.array([110105]), np.array(["1949-12-31"], dtype="datetime64[D]"), np.array([2]))
    >>> ids.to_pylist(), is_valid(ids[0].as_py())
    (['11010519491231002X'], True)
    """
    return from_bytes(id_digits(area, birth, seq))


def phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Synthetic 11-digit mobile numbers starting 13x–19x."""
    m = np.empty((n, 11), dtype=np.uint8)
    m[:, 0] = 49
    m[:, 1] = rng.choice(np.array([51, 53, 55, 56, 57, 56, 57, 53, 56], dtype=np.uint8), n)
    m[:, 2:] = rng.integers(48, 58, size=(n, 9), dtype=np.uint8)
    return from_bytes(m)


def digits(rng: np.random.Generator, n: int, prefix: str, width: int) -> pa.Array:
    """``prefix`` followed by ``width`` random digits (bank accounts, certificate serials)."""
    m = np.empty((n, len(prefix) + width), dtype=np.uint8)
    m[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    m[:, len(prefix) :] = rng.integers(48, 58, size=(n, width), dtype=np.uint8)
    return from_bytes(m)


def weighted(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def chars(text: str) -> pa.Array:
    """A string's characters as a pyarrow array (for ``take``)."""
    return pa.array(list(text), pa.string())
