"""The ``Capture``: a token table and, per stored layer, Q ``[n_heads, n_tokens, d_head]``
and K ``[n_kv_heads, n_tokens, d_head]``, read through a ``store.CaptureStore`` (in memory,
or a ``.attnviz`` file read lazily).

Built by ``attentionviz.capture`` / ``capture_vision`` (``attentionviz.models``, which need
torch), ``Capture.from_arrays`` or ``attentionviz.load`` (both torch-free).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import tokens as token_table
from .arrow import count_nonfinite, hash_frame, system_pool
from .attnviz_file import FORMAT, FORMAT_VERSION, CaptureWriter, PathLike
from .errors import CaptureFileError
from .png import decode_png
from .store import DTYPES, ArrayStore, CaptureStore
from .version import library_version

__all__ = ["Capture", "make_manifest"]

_MASKS = ("causal", "bidirectional")


class Capture:
    """What a model run produced: ``tokens`` (one row per token) and Q/K per (layer, head).

    Build with ``capture``, ``capture_vision``, ``Capture.from_arrays`` or
    ``attentionviz.load``. File-backed captures read Q/K lazily, one head at a time.
    """

    def __init__(self, store: CaptureStore) -> None:
        self._store = store
        self._m: dict[str, Any] = store.manifest
        self._seq_rows: dict[int, np.ndarray] | None = None
        self._row_hashes: np.ndarray | None = None

    @property
    def store(self) -> CaptureStore:
        """Where the data lives (``ArrayStore`` in memory, ``FileStore`` / ``ShardedStore``)."""
        return self._store

    # --- metadata -------------------------------------------------------------------
    tokens = property(lambda self: self._store.tokens(), doc="Token table (pandas DataFrame).")
    n_layers = property(lambda self: int(self._m["n_layers"]), doc="Number of stored layers.")
    n_heads = property(lambda self: int(self._m["n_heads"]), doc="Query heads per layer.")
    n_kv_heads = property(lambda self: int(self._m["n_kv_heads"]), doc="Key heads per layer.")
    d_head = property(lambda self: int(self._m["d_head"]), doc="Dimension of one head.")
    n_tokens = property(lambda self: int(self._m["n_tokens"]), doc="Rows of the token table.")
    scale = property(lambda self: float(self._m["scale"]), doc="Score scale (Q.K * scale).")
    mask = property(lambda self: str(self._m["mask"]), doc='"causal" or "bidirectional".')
    model_name = property(lambda self: str(self._m["model_name"]))
    architecture = property(lambda self: str(self._m["architecture"]))
    dtype = property(lambda self: str(self._m["dtype"]), doc="Storage dtype of Q/K.")
    layer_ids = property(
        lambda self: list(self._m["layer_ids"]), doc="Model layer index of each stored layer."
    )
    manifest = property(lambda self: dict(self._m), doc="A copy of the file manifest.")

    @property
    def sampled(self) -> bool:
        """Whether Q was kept for sampled query positions only (``capture(positions=...)``);
        then ``qk`` returns Q of the rows ``query_rows`` and K of every row."""
        return "n_query_rows" in self._m

    @property
    def query_rows(self) -> np.ndarray:
        """Token-table rows that have a query, in order (every row unless ``sampled``)."""
        if not self.sampled:
            return np.arange(self.n_tokens)
        return np.flatnonzero(self.tokens["has_query"].to_numpy())

    @property
    def sliding_windows(self) -> dict[int, int]:
        """Stored layer -> sliding window (a query sees the keys less than that many
        positions back) for layers with a sliding window; the others see every earlier key."""
        windows = (self._m.get("extra") or {}).get("sliding_window") or {}
        return {int(k): int(v) for k, v in windows.items()}

    @property
    def n_images(self) -> int:
        """Images kept with the capture (vision captures: one per sequence; else 0)."""
        return int((self._m.get("extra") or {}).get("n_images", 0) or 0)

    @property
    def images(self) -> list[bytes]:
        """PNG bytes of each input image as the model saw it (after the processor's resize /
        crop), image ``j`` being sequence ``j``; empty for text captures and for files
        written without images. File-backed captures read them from disk on each call."""
        return [self.image_png(j) for j in range(self.n_images)]

    def image_png(self, seq: int) -> bytes:
        """PNG bytes of the image of sequence ``seq`` (read alone, also from a file)."""
        if not self.n_images:
            raise ValueError("this capture holds no images (only capture_vision keeps them)")
        seq = operator.index(seq)
        if not 0 <= seq < self.n_images:
            raise IndexError(f"image {seq} out of range: this capture has {self.n_images} images")
        return self._store.image_png(seq)

    def image(self, seq: int) -> np.ndarray:
        """Image of sequence ``seq`` as the model saw it: uint8 ``[height, width, 3]``."""
        data = self.image_png(seq)
        try:
            return decode_png(data)
        except Exception as error:  # Pillow raises several types for a damaged PNG
            raise CaptureFileError(
                f"image {seq} of this capture is not a readable PNG ({error})"
            ) from error

    def __len__(self) -> int:
        return self.n_tokens

    def __repr__(self) -> str:
        return (
            f"<Capture {self.model_name!r} ({self.architecture}): {self.n_tokens} tokens, "
            f"{self.n_layers} layers x {self.n_heads} heads, d_head={self.d_head}, "
            f"mask={self.mask}, dtype={self.dtype}>"
        )

    # --- data -----------------------------------------------------------------------
    def _check(self, layer: int, head: int) -> tuple[int, int]:
        layer, head = operator.index(layer), operator.index(head)
        if not 0 <= layer < self.n_layers:
            raise IndexError(
                f"layer {layer} out of range: this capture has {self.n_layers} layers "
                f"(valid 0..{self.n_layers - 1})"
            )
        if not 0 <= head < self.n_heads:
            raise IndexError(
                f"head {head} out of range: this capture has {self.n_heads} heads per layer "
                f"(valid 0..{self.n_heads - 1})"
            )
        return layer, head

    def qk(
        self, layer: int, head: int, *, rows: int | None = None, dtype: Any = np.float32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Q and K of one head as float32 ``[n_tokens, d_head]``, rows aligned with ``tokens``
        (for a ``sampled`` capture Q has the rows ``query_rows`` only).

        With grouped-query attention K is the kv head shared by ``head``. ``rows`` keeps
        only the first rows and ``dtype`` picks the copy's type (e.g. float16): with both,
        only those bytes of a file-backed capture are read and copied once.
        """
        layer, head = self._check(layer, head)
        if rows is not None and operator.index(rows) < 0:
            raise ValueError(f"rows must be >= 0 or None, got {rows}")
        kv = head // (self.n_heads // self.n_kv_heads)
        # always fresh arrays: callers may modify them without touching the capture (or its
        # file); a file-backed store reads straight into that dtype (no stored-dtype copy)
        q = self._store.head("q", layer, head, rows, dtype)
        k = self._store.head("k", layer, kv, rows, dtype)
        self._check_finite(layer, head, q, k)
        return q, k

    def _check_finite(self, layer: int, head: int, queries: Any, keys: Any) -> None:
        # a file written by other code (or damaged) may hold NaN/inf: refuse, never show it
        for name, a in (("queries", queries), ("keys", keys)):
            bad = count_nonfinite(a)
            if bad:  # a CaptureFileError (a ValueError): the stored data is damaged
                raise CaptureFileError(
                    f"{name} of layer {layer}, head {head} contain {bad} NaN/inf value(s); "
                    "this capture is damaged: capture it again"
                )

    def qk_bytes(self, layer: int, head: int, *, rows: int | None = None) -> tuple[bytes, bytes]:
        """Q and K of one head as little-endian bytes of the stored dtype (``self.dtype``),
        i.e. ``qk(layer, head, rows=rows, dtype=self.dtype)`` as the view receives it, with
        the same checks; a file-backed capture reads each straight into its bytes."""
        layer, head = self._check(layer, head)
        if rows is not None and operator.index(rows) < 0:
            raise ValueError(f"rows must be >= 0 or None, got {rows}")
        kv = head // (self.n_heads // self.n_kv_heads)
        wire = np.dtype(DTYPES[self.dtype]).newbyteorder("<")
        q = self._store.head_bytes("q", layer, head, rows)
        k = self._store.head_bytes("k", layer, kv, rows)
        self._check_finite(layer, head, np.frombuffer(q, wire), np.frombuffer(k, wire))
        return q, k

    def tokens_ipc(self) -> bytes:
        """The token table as the view receives it: ``tokens_to_arrow(self.tokens)``, built
        from the file's Parquet without the DataFrame when the capture is file-backed."""
        with system_pool():  # the transient Arrow tables leave nothing resident
            return self._store.tokens_ipc()

    def token_hashes(self, names: Sequence[str]) -> np.ndarray:
        """``pd.util.hash_pandas_object(self.tokens[names], index=False)`` as uint64 values;
        a file-backed capture reads only those columns, strings dictionary-encoded (pandas
        hashes strings through their categories anyway: the same values)."""
        names = list(names)
        with system_pool():
            table = None if self._store.tokens_loaded else self._store.tokens_arrow(names)
            frame = self.tokens[names] if table is None else hash_frame(table)
            del table
            return pd.util.hash_pandas_object(frame, index=False).to_numpy()

    def row_hashes(self) -> np.ndarray:
        """``token_hashes(["text", "seq"])``, computed once: a token row's identity (the
        widget's capture id and the compare_to check both use it; a file-backed capture
        reads its token text for it)."""
        if self._row_hashes is None:
            self._row_hashes = self.token_hashes(["text", "seq"])
        return self._row_hashes

    @property
    def has_value_norms(self) -> bool:
        """Whether value-vector norms were captured (``capture`` / ``capture_vision`` keep
        them; older files and ``from_arrays`` without ``value_norms`` do not)."""
        return bool((self._m.get("extra") or {}).get("value_norms", False))

    def value_norms(self, layer: int, head: int) -> np.ndarray:
        """``|v_j|``, the norm of each token's value vector in head ``head`` of stored layer
        ``layer``: float32 ``[n_tokens]``, rows aligned with ``tokens``. Weighting attention
        by it (``alpha_ij * |v_j|``, Kobayashi et al. 2020) shows how much each key adds to
        a query's output. Raises ``ValueError`` when the capture has no value norms."""
        layer, head = self._check(layer, head)
        norms = self._store.value_norms(layer) if self.has_value_norms else None
        if norms is None:
            raise ValueError(
                "this capture holds no value norms (captured before they existed, or built "
                "with from_arrays without value_norms=); capture it again to weight by |v|"
            )
        out = np.array(norms[head], dtype=np.float32)
        if not np.isfinite(out).all() or (out < 0).any():
            raise CaptureFileError(
                f"value norms of layer {layer}, head {head} are damaged (NaN/inf or negative)"
            )
        return out

    def attention(self, layer: int, head: int, seq: int) -> np.ndarray:
        """``softmax(Q K^T * scale + mask)`` for sequence ``seq``: float32 ``[len, len]``
        (``[n sampled queries of seq, len]`` for a ``sampled`` capture). The mask is the
        capture's kind, within the layer's sliding window when it has one.

        Rows are queries, columns keys, both in token-table order of that sequence.
        """
        layer, head = self._check(layer, head)
        if self._seq_rows is None:
            groups = self.tokens.groupby("seq", sort=False).indices
            self._seq_rows = {int(s): np.asarray(ix) for s, ix in groups.items()}
        rows = self._seq_rows.get(operator.index(seq))
        if rows is None:
            raise IndexError(f"seq {seq} is not in this capture (seq values are in tokens['seq'])")
        q, k = self.qk(layer, head)
        qrows = rows
        if self.sampled:  # Q row of each token row that has a query
            has = self.tokens["has_query"].to_numpy()
            q_index = np.cumsum(has) - 1
            qrows = rows[has[rows]]
            q = q[q_index[qrows]]
        else:
            q = q[rows]
        scores = (q @ k[rows].T) * np.float32(self.scale)
        if self.mask == "causal":
            pos = self.tokens["pos"].to_numpy()
            back = pos[qrows][:, None] - pos[rows][None, :]
            allowed = back >= 0
            window = self.sliding_windows.get(layer)
            if window is not None:
                allowed &= back < window
            scores = np.where(allowed, scores, -np.inf)
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def save(self, path: PathLike) -> None:
        """Write this capture to ``path`` (a ``.attnviz`` file) atomically."""
        manifest = {**self._m, "library_version": library_version()}
        with CaptureWriter(path, manifest, self.tokens, self.images) as w:
            for layer in range(self.n_layers):
                w.write_rows(layer, self._store.q(layer), self._store.k(layer), 0)
                if self.has_value_norms:
                    w.write_value_norms(layer, self._store.value_norms(layer), 0)  # type: ignore[arg-type]

    # --- construction from arrays ---------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        tokens: pd.DataFrame,
        queries: np.ndarray,
        keys: np.ndarray,
        *,
        scale: float,
        mask: str,
        model_name: str = "custom",
        architecture: str = "custom",
        value_norms: np.ndarray | None = None,
    ) -> Capture:
        """A capture from Q ``[n_layers, n_heads, n_tokens, d_head]`` and K (same shape, or
        ``[n_layers, n_kv_heads, n_tokens, d_head]``) plus a token table with ``text`` and
        ``seq`` columns (``pos``/``pos_norm``/``raw``/``token_id``/``special`` are derived
        when missing). ``value_norms``: optional ``|v|`` ``[n_layers, n_heads, n_tokens]``
        (see ``value_norms``). Raises ``ValueError`` naming what is wrong.
        """
        if not isinstance(tokens, pd.DataFrame):
            raise ValueError(f"tokens must be a pandas DataFrame, got {type(tokens).__name__}")
        missing = [c for c in ("text", "seq") if c not in tokens.columns]
        if missing:
            raise ValueError(f"tokens is missing required column(s) {missing}")
        q, k = np.asarray(queries), np.asarray(keys)
        for name, a in (("queries", q), ("keys", k)):
            if a.ndim != 4:
                raise ValueError(
                    f"{name} must be 4-D [n_layers, heads, n_tokens, d_head], got shape {a.shape}"
                )
            if not np.issubdtype(a.dtype, np.floating):
                raise ValueError(f"{name} must be floating point, got dtype {a.dtype}")
        n_layers, n_heads, n_tokens, d_head = q.shape
        if len(tokens) == 0:
            raise ValueError("tokens is empty: a capture needs at least one token")
        if n_tokens != len(tokens):
            raise ValueError(
                f"queries have {n_tokens} token rows but tokens has {len(tokens)} rows"
            )
        if k.shape[0] != n_layers or k.shape[2:] != (n_tokens, d_head):
            raise ValueError(
                f"keys shape {k.shape} does not match queries {q.shape} "
                "(expected [n_layers, n_heads or n_kv_heads, n_tokens, d_head])"
            )
        if k.shape[1] == 0 or n_heads % k.shape[1]:
            raise ValueError(f"n_heads={n_heads} is not a multiple of the {k.shape[1]} key heads")
        for name, a in (("queries", q), ("keys", k)):
            bad = ~np.isfinite(a)
            if bad.any():
                layer, head, row, _ = (int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{name} contain NaN/inf (first at layer {layer}, head {head}, token {row})"
                )
        scale = float(scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a positive finite number, got {scale}")
        if mask not in _MASKS:
            raise ValueError(f"mask must be 'causal' or 'bidirectional', got {mask!r}")
        table = complete_tokens(tokens)
        dtype = "float16" if q.dtype == np.float16 and k.dtype == np.float16 else "float32"
        manifest = make_manifest(
            model_name=model_name,
            architecture=architecture,
            scale=scale,
            mask=mask,
            dtype=dtype,
            n_layers=n_layers,
            n_heads=n_heads,
            n_kv_heads=int(k.shape[1]),
            d_head=d_head,
            n_tokens=n_tokens,
            n_seqs=int(table["seq"].max()) + 1 if n_tokens else 0,
            layer_ids=list(range(n_layers)),
        )
        norms = _check_value_norms(value_norms, (n_layers, n_heads, n_tokens))
        if norms is not None:
            manifest["extra"]["value_norms"] = True
        npd = DTYPES[dtype]
        return cls(
            ArrayStore(
                q.astype(npd, copy=False), k.astype(npd, copy=False), table, manifest, None, norms
            )
        )


def _check_value_norms(norms: Any, shape: tuple[int, int, int]) -> np.ndarray | None:
    """``value_norms`` of ``from_arrays`` as float32 of ``shape``, or ValueError."""
    if norms is None:
        return None
    a = np.asarray(norms, dtype=np.float32)
    if a.shape != shape:
        raise ValueError(
            f"value_norms must be [n_layers, n_heads, n_tokens] = {list(shape)}, got {a.shape}"
        )
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("value_norms must be finite and >= 0 (they are vector norms)")
    return a


def complete_tokens(tokens: pd.DataFrame) -> pd.DataFrame:
    """Copy of a user token table with the derived standard columns filled in."""
    t = tokens.reset_index(drop=True).copy()
    t["seq"] = t["seq"].astype(np.int64)
    if "pos" not in t:
        t["pos"] = t.groupby("seq").cumcount().astype(np.int64)
    if "pos_norm" not in t:
        length = t.groupby("seq")["pos"].transform("size")
        t["pos_norm"] = (t["pos"] / (length - 1).clip(lower=1)).astype(np.float64)
    t["text"] = t["text"].astype(str)
    if "raw" not in t:
        t["raw"] = t["text"]
    if "token_id" not in t:
        t["token_id"] = np.int64(-1)
    if "special" not in t:
        t["special"] = False
    std = [c for c in token_table.IMAGE_COLUMNS if c in t.columns]
    return t[std + [c for c in t.columns if c not in std]]


def make_manifest(**fields: Any) -> dict[str, Any]:
    """A manifest dict with the format header and library version filled in."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": library_version(),
        "extra": {},
        **fields,
    }
