"""How one head and a selection cross to the browser: the one encoding of a head's Q/K,
shared by the widget's replies and traits and by the standalone HTML export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.capture import Capture

#: Dtypes a head can cross in.
WIRE_DTYPES = ("float16", "float32")


def head_payload(
    capture: Capture, layer: int, head: int, *, rows: int | None = None, dtype: str = "float16"
) -> tuple[dict[str, Any], bytes, bytes]:
    """Meta, Q bytes and K bytes of one head as they cross the wire (little-endian
    ``dtype``, row-major ``[n_tokens, d_head]``); ``rows`` (> 0) keeps only the first rows
    (the matrix view's thumbnail sample). Range and NaN/inf checks are the capture's."""
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    wire = np.dtype(dtype).newbyteorder("<")
    rows = rows if rows is not None and rows > 0 else None
    if capture.dtype == dtype:
        # the stored bytes are the wire's: read once into the bytes sent (one copy)
        queries, keys = capture.qk_bytes(layer, head, rows=rows)
        n_tokens = len(queries) // (capture.d_head * wire.itemsize)
    else:
        # through float32, so an fp32 value beyond fp16's range is not checked as inf
        q, k = capture.qk(layer, head, rows=rows, dtype=np.float32)
        queries, keys = q.astype(wire).tobytes(), k.astype(wire).tobytes()
        n_tokens = int(q.shape[0])
        del q, k
    meta = {
        "layer": int(layer),
        "head": int(head),
        "n_tokens": n_tokens,
        "d_head": capture.d_head,
        "dtype": dtype,
    }
    return meta, queries, keys


def rows_to_bytes(rows: Iterable[int]) -> bytes:
    """Token rows as the view's ``_selected_rows``: uint32 little-endian."""
    return np.asarray(list(rows), dtype="<u4").tobytes()
