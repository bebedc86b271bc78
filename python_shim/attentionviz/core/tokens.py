"""Building the token table: one row per non-padding token (text) or patch (images)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

TEXT_COLUMNS = ("text", "raw", "seq", "pos", "pos_norm", "token_id", "special")
IMAGE_COLUMNS = (*TEXT_COLUMNS, "patch_row", "patch_col")
RESERVED = frozenset(IMAGE_COLUMNS)


def normalize_metadata(metadata: Any, n_seqs: int) -> pd.DataFrame | None:
    """Metadata as a DataFrame with one row per input (RangeIndex), or None.

    Accepts a DataFrame or a dict of equal-length lists; raises ``ValueError`` on a row count
    mismatch or a column name that clashes with a token-table column.
    """
    if metadata is None:
        return None
    if isinstance(metadata, pd.DataFrame):
        df = metadata.reset_index(drop=True)
    elif isinstance(metadata, Mapping):
        lengths = {k: len(v) for k, v in metadata.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"metadata columns have different lengths: {lengths}")
        df = pd.DataFrame(dict(metadata))
    else:
        raise ValueError(
            f"metadata must be a pandas DataFrame or a dict of lists, got {type(metadata).__name__}"
        )
    if len(df) != n_seqs:
        raise ValueError(
            f"metadata has {len(df)} rows but there are {n_seqs} inputs; give one row per input"
        )
    clash = sorted(RESERVED & {str(c) for c in df.columns})
    if clash:
        raise ValueError(
            f"metadata columns {clash} clash with token-table columns; rename them "
            f"(reserved: {sorted(RESERVED)})"
        )
    return df


def clean_token(raw: str, tokenizer: Any) -> str:
    """A token as a reader sees it: ``"##ing" -> "ing"``, GPT-2 ``"Ġthe" -> "the"``."""
    if raw.startswith("##") and len(raw) > 2:
        return raw[2:]
    try:
        s = tokenizer.convert_tokens_to_string([raw])
    except Exception:  # some tokenizers cannot decode a lone piece; show it raw
        return raw
    if not isinstance(s, str) or s == "":
        return raw
    stripped = s.strip()
    return stripped if stripped else s  # keep whitespace-only tokens (e.g. "\n") visible


def _positions(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``seq``, ``pos``, ``pos_norm`` arrays for sequences of the given lengths."""
    seq = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    pos = np.arange(int(lengths.sum()), dtype=np.int64) - starts
    denom = np.repeat(np.maximum(lengths - 1, 1), lengths).astype(np.float64)
    return seq, pos, pos / denom


def _attach(df: pd.DataFrame, seq: np.ndarray, metadata: pd.DataFrame | None) -> pd.DataFrame:
    if metadata is not None and len(metadata.columns):
        meta = metadata.iloc[seq].reset_index(
            drop=True
        )  # broadcast one row per input to its tokens
        df = pd.concat([df, meta], axis=1)
    return df


def text_token_table(
    ids: Sequence[Sequence[int]], tokenizer: Any, metadata: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Token table for tokenized texts (``ids[i]`` = non-padding ids of text ``i``)."""
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    seq, pos, pos_norm = _positions(lengths)
    flat = [int(t) for x in ids for t in x]
    raw = [str(r) for r in tokenizer.convert_ids_to_tokens(flat)]
    cache: dict[str, str] = {}
    text = []
    for r in raw:
        if r not in cache:
            cache[r] = clean_token(r, tokenizer)
        text.append(cache[r])
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    df = pd.DataFrame(
        {
            "text": text,
            "raw": raw,
            "seq": seq,
            "pos": pos,
            "pos_norm": pos_norm,
            "token_id": np.array(flat, dtype=np.int64),
            "special": np.array([t in special_ids for t in flat], dtype=bool),
        }
    )
    return _attach(df, seq, metadata)


def image_token_table(
    n_images: int,
    n_prefix: int,
    grid: tuple[int, int],
    metadata: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Token table for images: ``n_prefix`` special tokens ([CLS], ...) then row-major patches."""
    gh, gw = grid
    per = n_prefix + gh * gw
    lengths = np.full(n_images, per, dtype=np.int64)
    seq, pos, pos_norm = _positions(lengths)
    prefix_names = ["[CLS]", "[DIST]"] + [f"[PREFIX{i}]" for i in range(2, n_prefix)]
    local = pos - n_prefix
    is_patch = local >= 0
    row = np.where(is_patch, local // max(gw, 1), -1)
    col = np.where(is_patch, local % max(gw, 1), -1)
    text = [
        f"patch {r},{c}" if p else prefix_names[int(i)]
        for p, r, c, i in zip(is_patch, row, col, pos, strict=True)
    ]
    df = pd.DataFrame(
        {
            "text": text,
            "raw": text,
            "seq": seq,
            "pos": pos,
            "pos_norm": pos_norm,
            "token_id": np.full(len(seq), -1, dtype=np.int64),
            "special": ~is_patch,
            "patch_row": row.astype(np.int64),
            "patch_col": col.astype(np.int64),
        }
    )
    return _attach(df, seq, metadata)
