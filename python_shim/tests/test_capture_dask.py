"""Sharded capture under dask.distributed: one .attnviz shard per partition, written by two
worker processes, opened lazily as one capture equal to a single-process capture."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.corpus import sentences

PKG = str(Path(av.__file__).resolve().parents[1])


def test_dask_shards_equal_single_process(tmp_path, monkeypatch, minilm, minilm_path):
    dask = pytest.importorskip("dask")
    db = pytest.importorskip("dask.bag")
    distributed = pytest.importorskip("distributed")
    # worker processes inherit the environment: make attentionviz importable there, offline
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([PKG, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = sentences(24)
    out_dir = tmp_path / "shards"

    def capture_partition(
        index: int, part: list[str], model_path: str, out: str
    ) -> tuple[str, int]:
        # Runs in a worker process: load the model there, write this partition's shard.
        from transformers import AutoModel, AutoTokenizer

        import attentionviz

        model = AutoModel.from_pretrained(model_path)
        tok = AutoTokenizer.from_pretrained(model_path)
        path = f"{out}/part-{index:05d}.attnviz"
        attentionviz.capture(model, tok, list(part), dtype="float32", progress=False, out=path)
        return path, os.getpid()

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        parts = db.from_sequence(texts, npartitions=2).to_delayed()
        tasks = [
            dask.delayed(capture_partition)(i, p, str(minilm_path), str(out_dir))
            for i, p in enumerate(parts)
        ]
        results = dask.compute(*tasks)
    assert len(results) == 2 and all(os.getpid() != pid for _, pid in results)

    sharded = av.load(out_dir)
    model, tok = minilm
    single = av.capture(model, tok, texts, dtype="float32", progress=False)
    pd.testing.assert_frame_equal(sharded.tokens, single.tokens)
    assert sharded.n_tokens == single.n_tokens
    for layer in range(single.n_layers):
        for head in (0, 11):
            for a, b in zip(sharded.qk(layer, head), single.qk(layer, head), strict=True):
                np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(sharded.attention(5, 3, 20), single.attention(5, 3, 20), atol=1e-6)
