"""What a file-backed view sends, built without the pandas round trip, must be exactly what
the DataFrame path sends: the token table's Arrow IPC, the capture id and each head's bytes.
(``bench/bench_lazy_open.py`` measures the memory this saves.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import attentionviz as av
from attentionviz.core import file_store
from attentionviz.core.arrow import tokens_to_arrow


def odd_tokens(n_seqs: int, seed: int = 0) -> pd.DataFrame:
    """A token table with the standard columns plus user columns of every kind pandas and
    Parquet disagree on (categorical, nullable, NaN, timestamps, missing strings, ...)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 6, n_seqs)
    seq = np.repeat(np.arange(n_seqs), lengths)
    n = len(seq)
    words = np.array(["the", "<b>x</b>", "é✓", "", "[SEP]", "cat"], dtype=object)
    with_nan = rng.normal(size=n)
    with_nan[::3] = np.nan
    nullable = pd.array(rng.integers(0, 9, n), dtype="Int64")
    nullable[1::4] = pd.NA
    missing_text = words[rng.integers(0, len(words), n)].copy()
    missing_text[::5] = None
    return pd.DataFrame(
        {
            "text": words[rng.integers(0, len(words), n)],
            "seq": seq,
            "token_id": rng.integers(0, 30000, n),
            "special": rng.random(n) < 0.2,
            "label": pd.Categorical(rng.choice(["pos", "neg"], n)),
            "nullable": nullable,
            "full_int": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "with_nan": with_nan,
            "small": rng.integers(0, 200, n).astype(np.uint8),
            "f32": rng.normal(size=n).astype(np.float32),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
            "missing_text": missing_text,
            "flag": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        }
    )


def capture_of(tokens: pd.DataFrame, dtype=np.float16, n_kv: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = len(tokens)
    q = rng.normal(size=(2, 4, n, 8)).astype(dtype)
    k = rng.normal(size=(2, n_kv, n, 8)).astype(dtype)
    return av.Capture.from_arrays(tokens, q, k, scale=8**-0.5, mask="causal", model_name="m")


@pytest.fixture
def saved(tmp_path: Path) -> tuple[av.Capture, Path]:
    cap = capture_of(odd_tokens(7))
    path = tmp_path / "odd.attnviz"
    cap.save(path)
    return cap, path


@pytest.fixture
def sharded(tmp_path: Path) -> Path:
    """Two shards of one capture (the second's seq starts at 0 again)."""
    folder = tmp_path / "shards"
    for i, n_seqs in enumerate((4, 6)):
        capture_of(odd_tokens(n_seqs, seed=i), seed=i).save(folder / f"part{i}.attnviz")
    return folder


def old_capture_id(cap: av.Capture) -> str:
    """The capture id as computed from the whole DataFrame (before the lazy path)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(str(cap.model_name).encode())
    hashes = pd.util.hash_pandas_object(cap.tokens[["text", "seq"]], index=False)
    digest.update(hashes.to_numpy())
    queries, _ = cap.qk(0, 0, rows=64)
    digest.update(np.ascontiguousarray(queries).tobytes())
    return digest.hexdigest()[:16]


def test_token_payload_from_the_file_is_the_dataframes(saved) -> None:
    _, path = saved
    lazy = av.load(path)
    payload = lazy.tokens_ipc()
    assert lazy.store._tokens is None  # built from the Parquet, not through the DataFrame
    expected = tokens_to_arrow(av.load(path).tokens)
    assert payload == expected  # byte for byte
    decoded = pa.ipc.open_stream(payload).read_all()
    assert decoded.column("text").type == pa.string()
    assert decoded.column("with_nan").null_count == (len(lazy.tokens) + 2) // 3  # NaN -> null
    # once the DataFrame is loaded it is used, with the same result
    assert lazy.tokens_ipc() == expected


def test_view_of_a_file_does_not_load_the_dataframe_until_asked(saved) -> None:
    cap, path = saved
    lazy = av.load(path)
    viz = av.AttentionViz(lazy, head=(1, 3))
    assert lazy.store._tokens is None
    assert viz._tokens == tokens_to_arrow(lazy.tokens)
    assert viz._capture_id == av.AttentionViz(cap)._capture_id == old_capture_id(lazy)
    viz.select([0, 2, 5])
    pd.testing.assert_frame_equal(viz.selection, lazy.tokens.iloc[[0, 2, 5]])


def test_sharded_token_payload_and_capture_id(sharded: Path) -> None:
    lazy = av.load(sharded)
    payload = lazy.tokens_ipc()
    assert lazy.store._tokens is None  # shards' Parquet, seq renumbered in Arrow
    id_lazy = av.AttentionViz(lazy)._capture_id
    assert lazy.store._tokens is None
    tokens = av.load(sharded).tokens
    assert payload == tokens_to_arrow(tokens)
    assert tokens["seq"].iloc[-1] == 9  # renumbered across shards
    assert id_lazy == old_capture_id(av.load(sharded))


def test_sharded_with_different_schemas_goes_through_pandas(tmp_path: Path) -> None:
    first = odd_tokens(3)
    second = odd_tokens(2, seed=1).astype({"small": np.int64})  # pandas upcasts on concat
    capture_of(first).save(tmp_path / "a.attnviz")
    capture_of(second, seed=1).save(tmp_path / "b.attnviz")
    lazy = av.load(tmp_path)
    assert lazy.tokens_ipc() == tokens_to_arrow(av.load(tmp_path).tokens)


def expected_qk(where: str, saved, layer: int, head: int) -> tuple[np.ndarray, np.ndarray]:
    """Q/K of one head from the in-memory capture(s) the files were saved from."""
    if where != "shards":
        return saved[0].qk(layer, head)
    parts = [
        capture_of(odd_tokens(n, seed=i), seed=i).qk(layer, head) for i, n in enumerate((4, 6))
    ]
    return np.concatenate([q for q, _ in parts]), np.concatenate([k for _, k in parts])


@pytest.mark.parametrize("where", ["memory", "file", "shards"])
def test_head_bytes_and_copies_are_the_stored_values(where: str, saved, sharded: Path) -> None:
    cap = {"memory": saved[0], "file": av.load(saved[1]), "shards": av.load(sharded)}[where]
    first_shard = 0 if where != "shards" else len(av.load(sharded / "part0.attnviz").tokens)
    for layer, head in ((0, 0), (1, 3)):  # head 3 reads kv head 1 (grouped query)
        want_q, want_k = expected_qk(where, saved, layer, head)
        for rows in (None, 0, 1, first_shard, first_shard + 1, 10**6):
            queries, keys = cap.qk_bytes(layer, head, rows=rows)
            q, k = cap.qk(layer, head, rows=rows)
            np.testing.assert_array_equal(q, want_q[:rows])
            np.testing.assert_array_equal(k, want_k[:rows])
            assert queries == q.astype("<f2").tobytes() and keys == k.astype("<f2").tobytes()
    viz = av.AttentionViz(cap, head=(1, 2))
    q, k = cap.qk(1, 2, dtype=np.float16)
    assert viz._queries == q.tobytes() and viz._keys == k.tobytes()
    assert viz._qk_meta == {
        "layer": 1,
        "head": 2,
        "n_tokens": cap.n_tokens,
        "d_head": 8,
        "dtype": "float16",
        "value_norms": cap.has_value_norms,
    }


def test_qk_of_a_file_is_a_writable_copy(saved, monkeypatch) -> None:
    mem, path = saved
    cap = av.load(path)
    # float16 on disk read as float32 a few rows at a time (5 rows of 8 x 2 bytes per step)
    monkeypatch.setattr(file_store, "_CHUNK_BYTES", 5 * 8 * 2)
    for rows in (None, 4, 5, 6, 11):
        for got, want in zip(cap.qk(1, 3, rows=rows), mem.qk(1, 3, rows=rows), strict=True):
            assert got.dtype == np.float32 and got.flags.writeable
            np.testing.assert_array_equal(got, want)
    q, _ = cap.qk(0, 1, dtype=np.float16)
    q[:] = 0  # the caller's own array: the file and the next read are untouched
    again, _ = cap.qk(0, 1, dtype=np.float16)
    assert np.count_nonzero(again) > 0
    assert again.dtype == np.float16 and cap.qk(0, 1)[0].dtype == np.float32


def test_nan_in_an_fp16_file_is_refused_on_the_bytes_path(saved) -> None:
    _, path = saved
    cap = av.load(path)
    offset, (_, d_head), dtype = cap.store._head_span("q", 1, 2, None)
    with open(path, "r+b") as f:
        f.seek(offset + 3 * d_head * dtype.itemsize)
        f.write(np.float16(np.nan).tobytes())
    with pytest.raises(ValueError, match=r"queries of layer 1, head 2 contain 1 NaN/inf"):
        cap.qk_bytes(1, 2)
    viz = av.AttentionViz(cap, head=(1, 1))
    with pytest.raises(ValueError, match=r"layer 1, head 2 contain 1 NaN/inf"):
        viz.head = (1, 2)
    assert viz.head == (1, 1) and viz._qk_meta["head"] == 1


def test_only_columns_equal_to_the_pandas_path_are_sent_as_read() -> None:
    from attentionviz.core.arrow import as_sent

    def col(values, kind=None) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(values, type=kind)])

    assert as_sent(col(["a", "b"], pa.large_string())).type == pa.string()
    for kept in (col(["a"]), col([1], pa.int32()), col([True]), col([0.5], pa.float32())):
        assert as_sent(kept) is kept
    for pandas_only in (
        col([1.0, float("nan")]),  # NaN: from_pandas sends it as null
        col([1, None]),  # nulls: pandas reads integers as float64
        col(["a", None]),
        col([1], pa.float16()),
        col(["x", "y"]).dictionary_encode(),  # categorical
        col([0], pa.timestamp("us")),
        col([[1, 2]]),
    ):
        assert as_sent(pandas_only) is None
    nan = pd.Series([1.0, np.nan])  # what the pandas path does with NaN, for reference
    assert pa.ipc.open_stream(tokens_to_arrow(nan.to_frame("x"))).read_all()["x"].null_count == 1
