"""What the widget checks and tells the view about the captures it shows: their identity
(layout cache key), head ranges, and the compare_to capture's match with the main one."""

from __future__ import annotations

import hashlib
import operator
from typing import Any

import numpy as np

from ..core.capture import Capture


def capture_id(capture: Capture) -> str:
    """Identifies a capture's contents, so cached layouts are never reused for another."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(str(capture.model_name).encode())
    # hash_pandas_object(tokens[["text", "seq"]]), without building the whole DataFrame
    digest.update(capture.row_hashes())
    queries, _ = capture.qk(0, 0, rows=64)  # reads 64 rows, not the whole head
    digest.update(np.ascontiguousarray(queries).tobytes())
    return digest.hexdigest()[:16]


def head_in_range(value: Any, what: str, n_layers: int, n_heads: int) -> tuple[int, int]:
    """``value`` as a ``(layer, head)`` of a capture with ``n_layers`` x ``n_heads`` heads,
    or a ValueError naming ``what`` and the valid ranges."""
    try:
        layer, head = (operator.index(v) for v in value)
    except (TypeError, ValueError):
        message = f"{what} must be a (layer, head) pair of integers, got {value!r}"
        raise ValueError(message) from None
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        raise ValueError(
            f"{what} {(layer, head)} is out of range: this capture has layers "
            f"0..{n_layers - 1} and heads 0..{n_heads - 1}"
        )
    return layer, head


def same_tokens(capture: Capture, other: Any) -> Capture:
    """``other`` if it is a Capture over the same token rows as ``capture`` (same text and
    sequence, row for row), so one selection means the same tokens in both; else an error
    naming the first difference."""
    if not isinstance(other, Capture):
        raise TypeError(
            f"compare_to needs an attentionviz.Capture (from av.capture or av.load), "
            f"got {type(other).__name__}"
        )
    if other.n_tokens != capture.n_tokens:
        raise ValueError(
            f"compare_to: the captures hold different tokens ({capture.n_tokens} vs "
            f"{other.n_tokens} rows); capture the same texts with the same tokenizer"
        )
    mine, theirs = capture.row_hashes(), other.row_hashes()
    if not np.array_equal(mine, theirs):
        row = int(np.flatnonzero(mine != theirs)[0])
        for column in ("text", "seq"):
            # tolist(): plain Python values, so the message reads 1, not np.int64(1)
            a, b = (c.tokens[column].iloc[row : row + 1].tolist()[0] for c in (capture, other))
            if a != b:
                raise ValueError(
                    f"compare_to: the captures' token {column!r} differs from row {row} "
                    f"({a!r} vs {b!r}); capture the same texts with the same tokenizer"
                )
    return other


def compare_info(capture: Capture) -> dict[str, Any]:
    """What the view needs of the compare_to capture (the ``_compare`` trait)."""
    return {
        "model_name": str(capture.model_name),
        "n_layers": capture.n_layers,
        "n_heads": capture.n_heads,
        "scale": float(capture.scale),
        "mask": str(capture.mask),
        "capture_id": capture_id(capture),
    }
