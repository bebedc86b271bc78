"""The view's selection (uint32 token rows) <-> pandas: what ``select()`` accepts, and the
rows ``viz.selection`` returns (typed-in tokens follow the capture's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def selection_frame(tokens: pd.DataFrame, added: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Rows ``rows`` of ``tokens``, then those of ``added`` (numbered after ``tokens``)."""
    n = len(tokens)
    if not len(added) or not (rows >= n).any():
        return tokens.iloc[rows[rows < n]]
    typed = added.iloc[rows[(rows >= n) & (rows < n + len(added))] - n]
    return pd.concat([tokens.iloc[rows[rows < n]], typed])


def _rows_of_frame(tokens: pd.DataFrame, what: pd.DataFrame) -> np.ndarray:
    missing = what.index.difference(tokens.index)
    if len(missing):
        raise ValueError(
            f"select(): {len(missing)} row label(s) are not in capture.tokens "
            f"(e.g. {list(missing[:5])}); pass rows of viz.capture.tokens or a filter of it"
        )
    return np.unique(tokens.index.get_indexer(what.index)).astype(np.uint32)


def _mask_by_label(tokens: pd.DataFrame, what: pd.Series) -> pd.Series:
    # a mask is matched to the tokens by its labels, not by its order
    missing = what.index.difference(tokens.index)
    if len(missing) or what.index.has_duplicates:
        raise ValueError(
            f"select(): the boolean mask's index does not match capture.tokens "
            f"({len(missing)} unknown label(s), e.g. {list(missing[:5])}"
            f"{', and duplicate labels' if what.index.has_duplicates else ''}); "
            "build the mask from viz.capture.tokens"
        )
    return what.reindex(tokens.index, fill_value=False)


def rows_of(tokens: pd.DataFrame, n_added: int, what: Any) -> np.ndarray:
    """Sorted uint32 row positions of ``what``: a DataFrame of token rows (by index), a
    boolean mask over the tokens (and the ``n_added`` typed-in ones), or row positions;
    ``None`` or empty: none."""
    n = len(tokens) + n_added
    if what is None:
        return np.zeros(0, dtype=np.uint32)
    if isinstance(what, pd.DataFrame):
        return _rows_of_frame(tokens, what)
    if isinstance(what, pd.Series) and what.dtype == bool:
        what = _mask_by_label(tokens, what)
    values = np.asarray(what.to_numpy() if isinstance(what, pd.Series) else list(what))
    if values.dtype == bool:
        if values.shape != (n,):
            raise ValueError(
                f"select(): a boolean mask must have one value per token ({n}), "
                f"got shape {values.shape}"
            )
        return np.flatnonzero(values).astype(np.uint32)
    if values.size == 0:
        return np.zeros(0, dtype=np.uint32)
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(
            "select() takes a DataFrame of token rows, a boolean mask or integer row "
            f"positions, got values of dtype {values.dtype}"
        )
    if values.min() < 0 or values.max() >= n:
        raise IndexError(f"select(): row positions must be in 0..{n - 1}")
    return np.unique(values).astype(np.uint32)
