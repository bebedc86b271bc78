"""The token table as the view receives it: one Arrow IPC stream.

``tokens_to_arrow(df)`` defines the payload: each DataFrame column through
``pa.array(column.to_numpy(), from_pandas=True)`` (columns Arrow cannot type become
strings). ``columns_to_ipc(sent_columns(table, ...))`` builds the same bytes from a table read
straight from a capture file's Parquet, without the 1M-row pandas round trip: columns whose
Arrow values are exactly what the pandas path would give (strings, integers, booleans and
floats with no null and no NaN) are sent as read; any other column (dictionary, timestamp,
nested, with nulls or NaN, ...) goes through pandas exactly as before, alone.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def series_to_arrow(values: pd.Series) -> pa.Array:
    """One token-table column as the view receives it (Arrow; untypable values as strings)."""
    try:
        return pa.array(values.to_numpy(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values.astype(str).to_numpy())


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc (Linux)
    except (OSError, AttributeError):  # macOS, Windows, musl: nothing to trim
        return None


_MALLOC_TRIM = _load_malloc_trim() if sys.platform.startswith("linux") else None


def trim_heap() -> None:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim``; a no-op
    elsewhere). glibc keeps freed blocks below its adaptive mmap threshold (up to 32 MB) in
    the heap, so a few transient 8-30 MB columns would otherwise stay resident."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@contextmanager
def system_pool() -> Iterator[None]:
    """Arrow allocations inside the block use the C allocator (``malloc``), and the heap is
    trimmed on the way out: Arrow's default allocator (mimalloc or jemalloc) keeps freed
    pages for reuse, so a 1M-row table read, converted and dropped would stay in the
    process's resident set (measured: ~85 MB after building the token payload, ~40 MB after
    hashing text and seq). Buffers remember their pool: arrays made here are freed
    correctly anywhere. (The default pool is process-wide; it is swapped for this block.)"""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
        trim_heap()


def columns_to_ipc(columns: dict[str, pa.Array | pa.ChunkedArray]) -> bytes:
    """An Arrow IPC stream of one record batch holding ``columns`` (no schema metadata).

    Empties ``columns`` (it owns them from here), so each array is freed as soon as it is
    written; the stream is written once into a buffer of its exact size (no growing copies).
    """
    table = pa.table(columns)
    columns.clear()
    if any(column.num_chunks > 1 for column in table.columns):
        table = table.combine_chunks()
    size = pa.MockOutputStream()
    with pa.ipc.new_stream(size, table.schema) as writer:
        writer.write_table(table)
    buffer = pa.allocate_buffer(size.size())
    with pa.ipc.new_stream(pa.FixedSizeBufferWriter(buffer), table.schema) as writer:
        writer.write_table(table)
    del table
    trim_heap()  # the columns' pages go before the bytes copy is made
    return buffer.to_pybytes()


def tokens_to_arrow(tokens: pd.DataFrame) -> bytes:
    """The token table as an Arrow IPC stream (columns Arrow cannot type become strings)."""
    return columns_to_ipc({str(name): series_to_arrow(tokens[name]) for name in tokens.columns})


def as_sent(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """An Arrow column read from Parquet as the pandas path would send it, or None when only
    pandas can tell: plain strings (pandas 3 writes ``large_string``; sent as ``string``),
    integers, booleans and float32/64 without nulls and without NaN (pandas turns an
    integer column with nulls into float64, and ``from_pandas`` makes NaN null)."""
    kind = column.type
    if column.null_count:
        return None
    if pa.types.is_large_string(kind):
        try:
            return column.cast(pa.string())
        except (pa.ArrowInvalid, OverflowError):  # over 2 GB of text: pandas path
            return None
    if pa.types.is_string(kind) or pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return column
    if pa.types.is_float32(kind) or pa.types.is_float64(kind):
        return None if pc.any(pc.is_nan(column)).as_py() else column
    return None


def sent_columns(
    table: pa.Table, read_pandas: Callable[[Sequence[str]], pd.DataFrame]
) -> dict[str, pa.Array | pa.ChunkedArray]:
    """The columns ``tokens_to_arrow`` sends for the DataFrame that ``table`` (read from
    Parquet) stands for; ``columns_to_ipc`` of them is the same stream.

    ``read_pandas(names)`` returns those columns as pandas reads them (the same reader as
    ``Capture.tokens``); it is called once, only for the columns not sent as read.
    """
    names = [str(n) for n in table.column_names]
    columns: dict[str, pa.Array | pa.ChunkedArray | None] = {
        n: as_sent(table.column(n)) for n in names
    }
    slow = [n for n in names if columns[n] is None]
    if slow:
        frame = read_pandas(slow)
        columns.update({n: series_to_arrow(frame[n]) for n in slow})
        del frame
    return columns  # type: ignore[return-value]


def hash_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` as a DataFrame for ``pd.util.hash_pandas_object``: string columns as
    categoricals (dictionary-encoded by Arrow). Row hashes equal those of the plain object or
    ``str`` column, since pandas hashes strings through their categories anyway, while the
    1M Python strings are never built."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.dictionary_encode(column)
        columns[str(name)] = column.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def count_nonfinite(values: np.ndarray, chunk: int = 1 << 20) -> int:
    """NaN/inf entries of a float array, counted ``chunk`` values at a time (bounded memory)."""
    flat = values.reshape(-1)
    return sum(
        int(part.size - np.count_nonzero(np.isfinite(part)))
        for part in (flat[i : i + chunk] for i in range(0, flat.size, chunk))
    )
