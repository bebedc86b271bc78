"""The .attnviz file: round trip, lazy open, atomic writes, truncated/foreign files, shards."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.core.attnviz_file import CaptureWriter


def make_capture(
    n_seqs: int = 3, n_kv: int = 2, dtype=np.float32, seed: int = 0, model_name: str = "custom"
) -> av.Capture:
    rng = np.random.default_rng(seed)
    lengths = [3, 5, 1, 4][:n_seqs]
    seq = np.repeat(np.arange(n_seqs), lengths)
    tokens = pd.DataFrame(
        {
            "text": [f"t<b>{i}</b>" for i in range(len(seq))],
            "seq": seq,
            "label": [f"doc{s}" for s in seq],
        }
    )
    n = len(tokens)
    q = rng.standard_normal((2, 4, n, 8)).astype(dtype)
    k = rng.standard_normal((2, n_kv, n, 8)).astype(dtype)
    return av.Capture.from_arrays(tokens, q, k, scale=8**-0.5, mask="causal", model_name=model_name)


def assert_same(a: av.Capture, b: av.Capture) -> None:
    pd.testing.assert_frame_equal(a.tokens, b.tokens)
    assert (a.n_layers, a.n_heads, a.n_kv_heads, a.d_head) == (
        b.n_layers,
        b.n_heads,
        b.n_kv_heads,
        b.d_head,
    )
    assert (a.scale, a.mask, a.model_name, a.architecture) == (
        b.scale,
        b.mask,
        b.model_name,
        b.architecture,
    )
    for layer in range(a.n_layers):
        for head in range(a.n_heads):
            for x, y in zip(a.qk(layer, head), b.qk(layer, head), strict=True):
                np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_round_trip(tmp_path, dtype):
    cap = make_capture(dtype=dtype)
    path = tmp_path / "c.attnviz"
    cap.save(path)
    loaded = av.load(path)
    assert loaded.dtype == ("float16" if dtype == np.float16 else "float32")
    assert_same(cap, loaded)
    assert loaded.tokens.text.iloc[0] == "t<b>0</b>"  # text stays text
    np.testing.assert_allclose(loaded.attention(1, 3, 1), cap.attention(1, 3, 1))
    loaded.save(tmp_path / "copy.attnviz")  # a file-backed capture saves too
    assert_same(cap, av.load(tmp_path / "copy.attnviz"))


def test_file_is_plain_safetensors(tmp_path):
    from safetensors import safe_open

    path = tmp_path / "c.attnviz"
    make_capture().save(path)
    with safe_open(str(path), framework="np") as f:
        manifest = json.loads(f.metadata()["attnviz"])
        assert f.get_tensor("q.1").shape == (4, 9, 8)  # [n_heads, n_tokens, d_head]
        assert f.get_tensor("k.1").shape == (2, 9, 8)  # [n_kv_heads, n_tokens, d_head]
    for field in ("format_version", "model_name", "architecture", "scale", "mask", "dtype"):
        assert field in manifest
    assert manifest["library_version"] == av.__version__
    assert (manifest["n_layers"], manifest["n_heads"], manifest["n_kv_heads"]) == (2, 4, 2)


def test_load_is_lazy(tmp_path):
    path = tmp_path / "c.attnviz"
    make_capture().save(path)
    cap = av.load(path)
    store = cap.store
    assert store._mm is None and store._tokens is None  # only the header was read
    assert cap.n_heads == 4 and cap.n_tokens == 9
    assert store._mm is None and store._tokens is None
    q, _ = cap.qk(0, 0)
    assert isinstance(q, np.ndarray) and q.shape == (9, cap.d_head)
    # one head is read on its own (not through the map, whose touched pages would stay
    # resident), and never the token table
    assert store._mm is None and store._tokens is None


def _run_writer_and_kill(tmp_path: Path, path: Path, stage: str) -> None:
    """Start a subprocess overwriting ``path`` with a new capture; SIGKILL it at ``stage``.

    The child imports only ``attentionviz.core`` (numpy + pandas, no torch) to start fast.
    """
    new = make_capture(seed=1, model_name="NEW")
    (tmp_path / "manifest.json").write_text(json.dumps(new.manifest))
    new.tokens.to_parquet(tmp_path / "tokens.parquet")
    layers = range(new.n_layers)
    q = np.stack([new.store.q(i) for i in layers])
    np.savez(tmp_path / "qk.npz", q=q, k=np.stack([new.store.k(i) for i in layers]))
    script = textwrap.dedent(
        f"""
        import json, os, sys, time
        import numpy as np, pandas as pd
        sys.modules["torch"] = None  # the writer never needs it
        import attentionviz.core.attnviz_file as cf
        d = {str(tmp_path)!r}
        manifest = json.load(open(d + "/manifest.json"))
        arrays = np.load(d + "/qk.npz")
        w = cf.CaptureWriter({str(path)!r}, manifest, pd.read_parquet(d + "/tokens.parquet"))
        if {stage!r} == "rows":  # killed with part of the rows written
            w.write_rows(0, arrays["q"][0][:, :5], arrays["k"][0][:, :5], 0)
        else:  # file complete and fsynced, killed just before os.replace
            for layer in range(len(arrays["q"])):
                w.write_rows(layer, arrays["q"][layer], arrays["k"][layer], 0)
            def stall(*a, **k):
                print("READY", flush=True)
                time.sleep(60)
            os.replace = stall  # the atomic writer renames with os.replace
            w.commit()
        print("READY", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        assert any(p.name.startswith(".c.attnviz.tmp-") for p in path.parent.iterdir())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("stage", ["rows", "rename"])
def test_killed_writer_leaves_old_file_intact(tmp_path, stage):
    path = tmp_path / "c.attnviz"
    old = make_capture(seed=0)
    old.save(path)
    before = path.read_bytes()
    _run_writer_and_kill(tmp_path, path, stage)
    assert path.read_bytes() == before
    assert_same(old, av.load(path))


def test_failed_capture_leaves_old_file_intact(tmp_path, minilm):
    model, tok = minilm
    path = tmp_path / "c.attnviz"
    make_capture().save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        av.capture(model, tok, ["fine", "also fine", ""], out=path, progress=False)
    calls = {"n": 0}

    def fail_on_second(module, args, output):
        calls["n"] += 1
        if calls["n"] > 1:  # fail in the second batch, after the first was written
            raise RuntimeError("boom")

    handle = model.encoder.layer[3].register_forward_hook(fail_on_second)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            av.capture(model, tok, ["a b", "c d", "e f"], batch_size=1, out=path, progress=False)
    finally:
        handle.remove()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.attnviz"]  # no temp files left


def test_truncated_file(tmp_path):
    path = tmp_path / "c.attnviz"
    make_capture().save(path)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(av.CaptureFileError, match=r"c\.attnviz.*truncated"):
        av.load(path)
    path.write_bytes(data[:100])
    with pytest.raises(av.CaptureFileError, match=r"c\.attnviz"):
        av.load(path)
    path.write_bytes(data[:3])
    with pytest.raises(av.CaptureFileError, match="too short"):
        av.load(path)


def test_foreign_files(tmp_path):
    png = tmp_path / "image.attnviz"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    with pytest.raises(av.CaptureFileError, match=r"image\.attnviz: not an \.attnviz file"):
        av.load(png)
    text = tmp_path / "notes.attnviz"
    text.write_text("hello world, this is not a capture at all\n" * 3)
    with pytest.raises(av.CaptureFileError, match=r"notes\.attnviz"):
        av.load(text)
    from safetensors.numpy import save_file

    plain = tmp_path / "weights.attnviz"
    save_file({"w": np.zeros(3, np.float32)}, str(plain))
    with pytest.raises(av.CaptureFileError, match="no attentionviz manifest"):
        av.load(plain)
    assert issubclass(av.CaptureFileError, ValueError)
    with pytest.raises(FileNotFoundError):
        av.load(tmp_path / "missing.attnviz")


def test_newer_format_version_rejected(tmp_path):
    path = tmp_path / "c.attnviz"
    cap = make_capture()
    with CaptureWriter(path, {**cap.manifest, "format_version": 99}, cap.tokens) as w:
        for layer in range(cap.n_layers):
            w.write_rows(layer, cap.store.q(layer), cap.store.k(layer), 0)
    with pytest.raises(av.CaptureFileError, match="newer"):
        av.load(path)


def test_header_shape_mismatch(tmp_path):
    path = tmp_path / "c.attnviz"
    make_capture().save(path)
    data = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    header = data[8 : 8 + n].decode()
    forged = header.replace('"shape": [4, 9, 8]', '"shape": [4, 8, 8]', 1).ljust(n)
    path.write_bytes(bytes(data[:8]) + forged.encode() + bytes(data[8 + n :]))
    with pytest.raises(av.CaptureFileError, match="shape"):
        av.load(path)


def test_shards_open_as_one(tmp_path):
    parts = [make_capture(n_seqs=2, seed=1), make_capture(n_seqs=3, seed=2)]
    shard_dir = tmp_path / "shards"
    for i, p in enumerate(parts):
        p.save(shard_dir / f"part-{i:05d}.attnviz")
    for cap in (av.load(shard_dir), av.load(sorted(shard_dir.iterdir()))):
        assert cap.n_tokens == parts[0].n_tokens + parts[1].n_tokens
        assert cap.tokens.seq.tolist() == [0] * 3 + [1] * 5 + [2] * 3 + [3] * 5 + [4] * 1
        q, k = cap.qk(1, 2)
        np.testing.assert_array_equal(q, np.concatenate([p.qk(1, 2)[0] for p in parts]))
        np.testing.assert_array_equal(k, np.concatenate([p.qk(1, 2)[1] for p in parts]))
        np.testing.assert_allclose(cap.attention(0, 1, 3), parts[1].attention(0, 1, 1))
    merged = tmp_path / "merged.attnviz"
    av.load(shard_dir).save(merged)
    assert_same(av.load(shard_dir), av.load(merged))


def test_mismatched_shards_rejected(tmp_path):
    make_capture(model_name="a").save(tmp_path / "a.attnviz")
    make_capture(model_name="b").save(tmp_path / "b.attnviz")
    with pytest.raises(av.CaptureFileError, match="model_name"):
        av.load(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(av.CaptureFileError, match=r"no \*\.attnviz"):
        av.load(tmp_path / "empty")


@pytest.mark.parametrize("rows", [0, 1, 7, 8, 9, 100, None])
def test_first_rows_of_a_head_match_the_whole_head(tmp_path, rows):
    """qk(rows=, dtype=) (what the widget sends for thumbnails and its cache id) equals a
    slice of the whole head, in memory, from a file, and across shard boundaries."""
    parts = [make_capture(n_seqs=2, seed=1), make_capture(n_seqs=3, seed=2)]  # 8 + 8 rows
    for i, p in enumerate(parts):
        p.save(tmp_path / f"part-{i:05d}.attnviz")
    for cap in (parts[0], av.load(tmp_path / "part-00000.attnviz"), av.load(tmp_path)):
        full_q, full_k = cap.qk(1, 3)
        q, k = cap.qk(1, 3, rows=rows, dtype=np.float16)
        assert q.dtype == k.dtype == np.float16
        np.testing.assert_array_equal(q, full_q[:rows].astype(np.float16))
        np.testing.assert_array_equal(k, full_k[:rows].astype(np.float16))
    with pytest.raises(ValueError, match="rows must be >= 0"):
        parts[0].qk(0, 0, rows=-1)


def test_every_store_follows_the_capture_store_protocol(tmp_path):
    from attentionviz.core.store import CaptureStore

    parts = [make_capture(n_seqs=2, seed=1), make_capture(n_seqs=3, seed=2)]
    for i, p in enumerate(parts):
        p.save(tmp_path / f"part-{i}.attnviz")
    stores = [parts[0].store, av.load(tmp_path / "part-0.attnviz").store, av.load(tmp_path).store]
    assert [type(s).__name__ for s in stores] == ["ArrayStore", "FileStore", "ShardedStore"]
    for store in stores:
        assert isinstance(store, CaptureStore)
        # every call answers the same for the same data (no store-specific probing needed)
        head = store.head("q", 1, 2, 5, np.float32)
        assert head.dtype == np.float32 and head.shape == (5, 8) and head.flags.writeable
        assert store.head_bytes("q", 1, 2, 5) == head.astype("<f4").tobytes()  # stored float32
