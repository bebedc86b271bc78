"""ONNX export with Q/K outputs: onnxruntime (Python) reproduces ``cap.qk`` (atol 1e-4),
quantized variants stay close, and a model without the Q/K outputs is refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TEXTS, tiny_model

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from attentionviz import onnx as av_onnx
from attentionviz.models.capture import capture


def _max_diff(cap: Any, layers: list[list[np.ndarray]]) -> float:
    worst = 0.0
    kv_group = cap.n_heads // cap.n_kv_heads
    for layer in range(cap.n_layers):
        q_onnx, k_onnx = layers[layer]
        for head in range(cap.n_heads):
            q, k = cap.qk(layer, head)
            worst = max(
                worst,
                float(np.abs(q - q_onnx[head]).max()),
                float(np.abs(k - k_onnx[head // kv_group]).max()),
            )
    return worst


@pytest.fixture(scope="module")
def minilm_onnx(minilm: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    model, tokenizer = minilm
    return av_onnx.export(model, tokenizer, tmp_path_factory.mktemp("minilm") / "model.onnx")


def test_minilm_export_matches_capture(minilm: tuple[Any, Any], minilm_onnx: Path) -> None:
    model, tokenizer = minilm
    manifest = av_onnx.load(minilm_onnx)
    assert manifest["n_layers"] == 6 and manifest["n_heads"] == 12 and manifest["d_head"] == 32
    assert manifest["mask"] == "bidirectional"
    assert manifest["scale"] == pytest.approx(32**-0.5)
    assert (minilm_onnx.parent / "tokenizer.json").exists()
    runner = av_onnx.OnnxQK(minilm_onnx)
    ids, layers = runner.run(TEXTS)
    cap = capture(model, tokenizer, TEXTS, dtype="float32", progress=False)
    assert [i for x in ids for i in x] == cap.tokens["token_id"].tolist()
    assert _max_diff(cap, layers) <= 1e-4


def test_padded_batch_matches_unpadded(minilm_onnx: Path) -> None:
    """Dynamic batch and sequence axes: a padded batch gives each text's own Q/K."""
    runner = av_onnx.OnnxQK(minilm_onnx)
    a, b = runner.encode(TEXTS[0])[0], runner.encode(TEXTS[3])[0]
    x = np.zeros((2, len(b)), dtype=np.int64)
    mask = np.zeros_like(x)
    x[0, : len(a)], mask[0, : len(a)] = a, 1
    x[1], mask[1] = b, 1
    outs = runner.session.run(["q.2", "k.2"], {"input_ids": x, "attention_mask": mask})
    qa, ka = runner.run_ids(a)[2]
    np.testing.assert_allclose(outs[0][0, :, : len(a)], qa, atol=1e-4)
    np.testing.assert_allclose(outs[1][0, :, : len(a)], ka, atol=1e-4)


def test_truncation_reports_original_length(minilm_onnx: Path) -> None:
    runner = av_onnx.OnnxQK(minilm_onnx)
    ids, truncated, n = runner.encode("word " * 600)
    assert truncated and n == 602 and len(ids) == 512 and ids[-1] == 102


@pytest.mark.parametrize("dtype, atol, rtol", [("float16", 1e-2, 1e-3), ("int8", 2.0, 0.15)])
def test_quantized_variants_stay_close(
    minilm: tuple[Any, Any],
    minilm_onnx: Path,
    tmp_path: Path,
    dtype: str,
    atol: float,
    rtol: float,
) -> None:
    """fp16 weights: tiny error; dynamic int8: a rough view (relative Frobenius error)."""
    model, tokenizer = minilm
    path = av_onnx.export(model, tokenizer, tmp_path / "model.onnx", dtype=dtype)
    assert path.stat().st_size < 0.6 * minilm_onnx.stat().st_size
    _, ref = av_onnx.OnnxQK(minilm_onnx).run(TEXTS[:2])
    _, got = av_onnx.OnnxQK(path).run(TEXTS[:2])
    pairs = [(r, g) for lr, lg in zip(ref, got, strict=True) for r, g in zip(lr, lg, strict=True)]
    worst = max(float(np.abs(r - g).max()) for r, g in pairs)
    rel = float(np.mean([np.linalg.norm(r - g) / np.linalg.norm(r) for r, g in pairs]))
    assert 0 < worst <= atol and rel <= rtol


def test_gpt2_export_matches_capture(gpt2_tokenizer: Any, tmp_path: Path) -> None:
    model = tiny_model("gpt2")
    path = av_onnx.export(model, gpt2_tokenizer, tmp_path / "gpt2.onnx")
    manifest = av_onnx.load(path)
    assert manifest["mask"] == "causal" and manifest["max_length"] == 128
    _, layers = av_onnx.OnnxQK(path).run(TEXTS)
    cap = capture(model, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    assert _max_diff(cap, layers) <= 1e-4


def test_llama_gqa_export_matches_capture(gpt2_tokenizer: Any, tmp_path: Path) -> None:
    """RoPE + grouped-query attention: K is exported with the kv heads, after rotary."""
    model = tiny_model("llama")
    path = av_onnx.export(model, gpt2_tokenizer, tmp_path / "llama.onnx")
    manifest = av_onnx.load(path)
    assert (manifest["n_heads"], manifest["n_kv_heads"]) == (4, 2)
    _, layers = av_onnx.OnnxQK(path).run(TEXTS)
    cap = capture(model, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    assert _max_diff(cap, layers) <= 1e-4


def test_missing_qk_outputs_are_named(minilm_onnx: Path, tmp_path: Path) -> None:
    import onnx

    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", av_onnx.MANIFEST):
        (folder / name).write_bytes((minilm_onnx.parent / name).read_bytes())
    model = onnx.load(str(minilm_onnx))
    keep = [o for o in model.graph.output if o.name not in ("q.3", "k.5")]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    onnx.save(model, str(folder / "model.onnx"))
    with pytest.raises(av_onnx.OnnxModelError, match=r"lacks the Q/K output\(s\) \['q.3', 'k.5'\]"):
        av_onnx.load(folder)
    with pytest.raises(av_onnx.OnnxModelError, match="lacks the Q/K output"):
        av_onnx.OnnxQK(folder / "model.onnx")


def test_foreign_files_are_refused(minilm_onnx: Path, tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes((minilm_onnx).read_bytes())
    with pytest.raises(av_onnx.OnnxModelError, match=r"has no attnviz-onnx\.json"):
        av_onnx.load(tmp_path / "model.onnx")
    manifest = json.loads((minilm_onnx.parent / av_onnx.MANIFEST).read_text())
    (tmp_path / av_onnx.MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(av_onnx.OnnxModelError, match="not a readable ONNX model"):
        av_onnx.load(tmp_path)


def test_bad_arguments(minilm: tuple[Any, Any], tmp_path: Path) -> None:
    model, tokenizer = minilm
    with pytest.raises(ValueError, match="dtype must be one of"):
        av_onnx.export(model, tokenizer, tmp_path / "m.onnx", dtype="bf16")
    with pytest.raises(ValueError, match=r"must end in \.onnx"):
        av_onnx.export(model, tokenizer, tmp_path / "m.bin")
    with pytest.raises(ValueError, match="exceeds what the model allows"):
        av_onnx.export(model, tokenizer, tmp_path / "m.onnx", max_length=4096)
