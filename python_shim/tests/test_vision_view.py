"""Vision captures keep their images (as the model saw them) for the image view:
in memory, in ``.attnviz`` files (old files still load), across shards, and on request
from the widget."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import tiny_model

import attentionviz as av
from attentionviz.core.file_store import FileStore
from attentionviz.core.png import decode_png
from attentionviz.models.images import pixels_to_uint8


@pytest.fixture(scope="module")
def vision_capture(images, processor):
    return av.capture_vision(tiny_model("vit"), processor, images, batch_size=2, progress=False)


def test_images_are_what_the_model_saw(vision_capture, images, processor):
    assert len(vision_capture.images) == 3 and vision_capture.n_images == 3
    assert vision_capture.manifest["extra"]["n_images"] == 3
    pixels = processor(images=images, return_tensors="np")["pixel_values"]  # [3, 3, 32, 32]
    for seq in range(3):
        picture = vision_capture.image(seq)
        assert picture.shape == (32, 32, 3) and picture.dtype == np.uint8
        # normalizing the stored picture again gives the model's input (to PNG's 8 bits)
        again = (picture.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        assert np.abs(again - pixels[seq]).max() <= 1.01 * (1 / 255) / 0.5
    # distinct photos, not one image repeated
    assert not np.array_equal(vision_capture.image(0), vision_capture.image(1))


def test_pixels_round_trip_through_uint8(processor, images):
    pixels = processor(images=images[:1], return_tensors="np")["pixel_values"]
    picture = pixels_to_uint8(processor, pixels)
    assert picture.shape == (1, 32, 32, 3)
    with pytest.raises(ValueError, match="batch, channels, height, width"):
        pixels_to_uint8(processor, pixels[0])


def test_save_load_round_trip_keeps_images(vision_capture, tmp_path):
    path = tmp_path / "vision.attnviz"
    vision_capture.save(path)
    loaded = av.load(path)
    assert len(loaded.images) == 3
    for seq in range(3):
        np.testing.assert_array_equal(loaded.image(seq), vision_capture.image(seq))
    assert loaded.images == vision_capture.images  # byte-identical PNGs
    # Q/K and the token table are untouched by the image tensors before them
    q0, k0 = vision_capture.qk(1, 2)
    q1, k1 = loaded.qk(1, 2)
    np.testing.assert_array_equal(q0, q1)
    np.testing.assert_array_equal(k0, k1)
    assert loaded.tokens.equals(vision_capture.tokens)
    # and it stays a plain safetensors file
    safetensors = pytest.importorskip("safetensors.numpy")
    tensors = safetensors.load_file(str(path))
    assert bytes(tensors["image.2"].tobytes()) == vision_capture.images[2]


def test_streaming_capture_to_a_file_keeps_images(images, processor, vision_capture, tmp_path):
    path = tmp_path / "streamed.attnviz"
    cap = av.capture_vision(
        tiny_model("vit"), processor, images, batch_size=2, progress=False, out=path
    )
    assert isinstance(cap.store, FileStore)
    for seq in range(3):
        np.testing.assert_array_equal(cap.image(seq), vision_capture.image(seq))


def test_keep_images_false_and_text_captures_have_none(images, processor, tmp_path):
    cap = av.capture_vision(
        tiny_model("vit"), processor, images[:1], progress=False, keep_images=False
    )
    assert cap.images == []
    assert "n_images" not in cap.manifest["extra"]
    with pytest.raises(ValueError, match="holds no images"):
        cap.image(0)
    cap.save(tmp_path / "no_images.attnviz")
    assert av.load(tmp_path / "no_images.attnviz").images == []


def test_files_written_before_images_existed_still_load(vision_capture, tmp_path):
    """A file without image tensors (as written before this change) opens as before."""
    cap = av.Capture.from_arrays(
        vision_capture.tokens,
        np.stack([np.stack([vision_capture.qk(la, h)[0] for h in range(4)]) for la in range(2)]),
        np.stack([np.stack([vision_capture.qk(la, h)[1] for h in range(4)]) for la in range(2)]),
        scale=vision_capture.scale,
        mask="bidirectional",
    )
    path = tmp_path / "old.attnviz"
    cap.save(path)
    raw = path.read_bytes()
    (n,) = np.frombuffer(raw[:8], "<u8")
    header = json.loads(raw[8 : 8 + int(n)])
    assert not any(name.startswith("image.") for name in header)
    loaded = av.load(path)
    assert loaded.images == [] and len(loaded.tokens) == len(vision_capture.tokens)
    with pytest.raises(IndexError, match="out of range"):
        vision_capture.image(3)


def test_shards_concatenate_images_in_sequence_order(images, processor, tmp_path):
    paths = []
    for j, chunk in enumerate([images[:2], images[2:]]):
        path = tmp_path / f"shard{j}.attnviz"
        av.capture_vision(tiny_model("vit"), processor, chunk, progress=False, out=path)
        paths.append(path)
    both = av.load(paths)
    assert len(both.images) == 3
    assert both.manifest["extra"]["n_images"] == 3
    np.testing.assert_array_equal(both.image(2), decode_png(av.load(paths[1]).images[0]))
    assert both.image_png(1) == av.load(paths[0]).image_png(1)
    both.save(tmp_path / "merged.attnviz")
    assert av.load(tmp_path / "merged.attnviz").images == both.images


def _ask(viz: av.AttentionViz, content: dict) -> list[tuple[dict, list]]:
    sent: list[tuple[dict, list]] = []
    viz.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    viz._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})
    return sent


def test_widget_sends_an_image_on_request(vision_capture):
    viz = av.AttentionViz(vision_capture, head=(0, 0))
    sent = _ask(viz, {"kind": "image", "id": 5, "seq": 1})
    assert len(sent) == 1
    content, buffers = sent[0]
    assert content == {"kind": "image", "reply_to": 5, "ok": True, "seq": 1}
    assert bytes(buffers[0]) == vision_capture.images[1]
    bad = _ask(viz, {"kind": "image", "id": 6, "seq": 7})[0][0]
    assert (bad["kind"], bad["reply_to"], bad["ok"]) == ("image", 6, False)
    assert "out of range" in bad["error"]
    # the token table the view colours by carries the patch grid
    assert {"patch_row", "patch_col"} <= set(vision_capture.tokens.columns)


def test_widget_answers_a_capture_without_images_with_an_error(small_text_capture):
    viz = av.AttentionViz(small_text_capture)
    content = _ask(viz, {"kind": "image", "id": 1, "seq": 0})[0][0]
    assert content["ok"] is False and "no images" in content["error"]


@pytest.fixture
def small_text_capture():
    rng = np.random.default_rng(0)
    import pandas as pd

    tokens = pd.DataFrame({"text": ["a", "b", "c"], "seq": [0, 0, 0]})
    q = rng.normal(size=(1, 1, 3, 4)).astype(np.float32)
    return av.Capture.from_arrays(tokens, q, q, scale=0.5, mask="bidirectional")
