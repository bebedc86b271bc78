"""``attentionviz capture`` from the command line."""

from __future__ import annotations

import numpy as np

import attentionviz as av
from attentionviz.cli import main


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
