"""``attentionviz capture`` from the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.cli import main


@pytest.fixture()
def small_capture_file(tmp_path):
    """2 layers x 3 heads over two short sentences, saved as a .attnviz file."""
    rng = np.random.default_rng(1)
    words = [["[CLS]", "a", "<img src=x>", "[SEP]"], ["[CLS]", "b", "[SEP]"]]
    tokens = pd.DataFrame(
        {
            "text": [w for sent in words for w in sent],
            "seq": [s for s, sent in enumerate(words) for _ in sent],
        }
    )
    q = rng.normal(size=(2, 3, len(tokens), 8)).astype(np.float32)
    k = rng.normal(size=(2, 3, len(tokens), 8)).astype(np.float32)
    cap = av.Capture.from_arrays(tokens, q, k, scale=8**-0.5, mask="bidirectional")
    path = tmp_path / "small.attnviz"
    cap.save(path)
    return path


def test_cli_capture(tmp_path, minilm_path, minilm, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("The cat sat.\n\nA dog barked loudly!\n", encoding="utf-8")
    out = tmp_path / "c.attnviz"
    argv = ["capture", "--model", str(minilm_path), "--texts", str(texts), "-o", str(out)]
    assert main([*argv, "--dtype", "float32", "--batch-size", "1", "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    cap = av.load(out)
    assert cap.tokens.seq.nunique() == 2 and cap.dtype == "float32"
    model, tok = minilm
    ref = av.capture(
        model, tok, ["The cat sat.", "A dog barked loudly!"], dtype="float32", progress=False
    )
    np.testing.assert_allclose(cap.qk(3, 4)[0], ref.qk(3, 4)[0], atol=1e-5)


def test_cli_reports_errors(tmp_path, minilm_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "c.attnviz"
    code = main(["capture", "--model", str(minilm_path), "--texts", str(empty), "-o", str(out)])
    assert code == 1
    assert "empty.txt holds no non-blank lines" in capsys.readouterr().err
    assert not out.exists()


def test_cli_html_writes_a_standalone_page(tmp_path, small_capture_file, capsys):
    out = tmp_path / "view.html"
    argv = ["html", str(small_capture_file), "-o", str(out), "--head", "1,2", "--no-progress"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "mountStandalone" in page
    cap = av.load(small_capture_file)
    state = _state_of(page)
    assert state["traits"]["head"] == [1, 2] and state["traits"]["view"] == "head"
    assert len(state["heads"]) == cap.n_layers * cap.n_heads


def test_cli_html_reports_bad_input(tmp_path, small_capture_file, capsys):
    out = tmp_path / "view.html"
    assert main(["html", str(small_capture_file), "-o", str(out), "--head", "99,0"]) == 1
    assert "head (99, 0) is out of range" in capsys.readouterr().err
    foreign = tmp_path / "foreign.attnviz"
    foreign.write_bytes(b"not a capture at all")
    assert main(["html", str(foreign), "-o", str(out)]) == 1
    assert "foreign.attnviz" in capsys.readouterr().err
    assert not out.exists()


def _state_of(page: str) -> dict:
    import json
    import re

    found = re.search(r'id="attentionviz-state">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))
