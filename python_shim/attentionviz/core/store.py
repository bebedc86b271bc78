"""What a ``Capture`` reads its data through: the ``CaptureStore`` protocol, and the
in-memory store (``ArrayStore``). The file stores are in ``file_store``.

Every store answers every call of the protocol (no attribute probing): a store without a
faster path for a call (e.g. the token table as Arrow) says so by its return value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa

from .arrow import tokens_to_arrow

#: Storage dtypes of Q/K, by manifest name.
DTYPES: dict[str, type[np.floating]] = {"float16": np.float16, "float32": np.float32}


@runtime_checkable
class CaptureStore(Protocol):
    """Where a capture's manifest, token table, Q/K and images live."""

    manifest: dict[str, Any]

    @property
    def tokens_loaded(self) -> bool:
        """Whether ``tokens()`` is already in memory (then reading it again is free)."""
        ...

    def tokens(self) -> pd.DataFrame:
        """The token table (kept after the first call)."""
        ...

    def tokens_arrow(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        """Some columns of the token table read as Arrow without pandas, or None when the
        store has no such path (then callers use ``tokens()``)."""
        ...

    def tokens_ipc(self) -> bytes:
        """``tokens_to_arrow(self.tokens())``: the token table as the view receives it."""
        ...

    def q(self, layer: int) -> np.ndarray:
        """Q of stored layer ``layer``, ``[n_heads, n_query_rows, d_head]`` (``n_query_rows``
        is ``n_tokens`` unless query positions were sampled; may be a view)."""
        ...

    def k(self, layer: int) -> np.ndarray:
        """K of stored layer ``layer``, ``[n_kv_heads, n_tokens, d_head]`` (may be a view)."""
        ...

    def head(
        self, kind: str, layer: int, index: int, rows: int | None, dtype: Any = None
    ) -> np.ndarray:
        """The first ``rows`` rows (all when None) of one Q (``kind="q"``) or K head as a
        fresh array ``[rows, d_head]`` the caller owns, of ``dtype`` (default: stored)."""
        ...

    def head_bytes(self, kind: str, layer: int, index: int, rows: int | None) -> bytes:
        """The same rows as little-endian bytes of the stored dtype."""
        ...

    def images(self) -> list[bytes]:
        """PNG bytes per image (vision captures; image j is sequence j), else empty."""
        ...

    def value_norms(self, layer: int) -> np.ndarray | None:
        """``|v|`` of stored layer ``layer``, float32 ``[n_heads, n_tokens]``, or None when
        the capture was made without them (older files, ``from_arrays`` without them)."""
        ...

    def image_png(self, j: int) -> bytes:
        """PNG bytes of image ``j`` alone."""
        ...


class ArrayStore:
    """In-memory Q ``[n_layers, n_heads, n_tokens, d_head]`` / K ``[n_layers, n_kv_heads, ...]``."""

    def __init__(
        self,
        q: np.ndarray,
        k: np.ndarray,
        tokens: pd.DataFrame,
        manifest: dict[str, Any],
        images: Sequence[bytes] | None = None,
        value_norms: np.ndarray | None = None,
    ) -> None:
        self._q, self._k, self._tokens, self.manifest = q, k, tokens, manifest
        self._images = list(images or [])
        self._vnorm = value_norms  # [n_layers, n_heads, n_tokens] float32 or None

    def value_norms(self, layer: int) -> np.ndarray | None:
        return None if self._vnorm is None else self._vnorm[layer]

    @property
    def tokens_loaded(self) -> bool:
        return True

    def tokens(self) -> pd.DataFrame:
        return self._tokens

    def tokens_arrow(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        return None  # the DataFrame is here already

    def tokens_ipc(self) -> bytes:
        return tokens_to_arrow(self._tokens)

    def q(self, layer: int) -> np.ndarray:
        return self._q[layer]

    def k(self, layer: int) -> np.ndarray:
        return self._k[layer]

    def _rows(self, kind: str, layer: int, index: int, rows: int | None) -> np.ndarray:
        return (self._q if kind == "q" else self._k)[layer][index, :rows]

    def head(
        self, kind: str, layer: int, index: int, rows: int | None, dtype: Any = None
    ) -> np.ndarray:
        stored = self._rows(kind, layer, index, rows)
        return np.array(stored, dtype=stored.dtype if dtype is None else dtype)

    def head_bytes(self, kind: str, layer: int, index: int, rows: int | None) -> bytes:
        stored = self._rows(kind, layer, index, rows)
        return stored.astype(stored.dtype.newbyteorder("<"), copy=False).tobytes()

    def images(self) -> list[bytes]:
        return self._images

    def image_png(self, j: int) -> bytes:
        return self._images[j]
