"""Every hard input of issue #7, in one place: each case, where it is tested, and the
tests for the cases no other file covers.

| case                                    | tested in                                              |
|-----------------------------------------|--------------------------------------------------------|
| NaN/inf from the model                  | test_capture_errors::test_nan_in_model_output_...      |
| NaN/inf in arrays given to a Capture    | test_capture_errors::test_from_arrays_validation       |
| NaN/inf in a loaded file                | here: test_nan_in_a_loaded_file_is_refused_by_name     |
| float16 overflow                        | test_capture_errors::test_float16_overflow_...         |
| mismatched Q/K shapes (Capture)         | test_capture_errors::test_from_arrays_validation       |
| mismatched Q/K shapes (writing a file)  | here: test_writer_refuses_rows_that_do_not_fit         |
| mismatched shapes in a file's header    | test_capture_file::test_header_shape_mismatch          |
| empty texts ([] and [""])               | test_capture_errors::test_bad_texts                    |
| empty images                            | test_capture_vit::test_empty_images_rejected           |
| empty token table                       | here: test_empty_token_table_is_refused                |
| sequences longer than the model allows  | test_capture_errors::test_too_long_sequences           |
| unsupported architectures               | test_capture_errors (ALiBi, relative position, ...)    |
| layer/head out of range on cap.qk       | test_capture_errors::test_head_and_layer_out_of_range  |
| layer/head out of range on viz.head     | test_widget::test_bad_head_index_gives_a_clear_error   |
| a truncated or foreign .attnviz         | test_capture_file::test_truncated_file / _foreign_...  |
| a killed writer                         | test_capture_file::test_killed_writer_leaves_old_...   |
| select() with rows not in the capture   | test_widget::test_select_rejects_rows_not_in_the_...   |
| select() with a mask indexed otherwise  | here: test_select_matches_a_mask_by_its_labels         |
| a capture opened read-only              | here: test_a_read_only_capture_is_never_written        |
| HTML/script in token text               | karma tests/ts/view.spec.ts, e2e/reliability.test.mjs  |

``test_the_index_names_real_tests`` keeps the table honest.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import traitlets

import attentionviz as av
from attentionviz.core.attnviz_file import CaptureWriter

HERE = Path(__file__).parent

# (file, test function) for every case above that lives in another file
ELSEWHERE = [
    ("test_capture_errors.py", "test_nan_in_model_output_and_model_restored"),
    ("test_capture_errors.py", "test_from_arrays_validation"),
    ("test_capture_errors.py", "test_float16_overflow_suggests_float32"),
    ("test_capture_errors.py", "test_bad_texts"),
    ("test_capture_errors.py", "test_too_long_sequences"),
    ("test_capture_errors.py", "test_alibi_refused"),
    ("test_capture_errors.py", "test_relative_position_bias_refused"),
    ("test_capture_errors.py", "test_not_routed_through_attention_interface_refused"),
    ("test_capture_errors.py", "test_head_and_layer_out_of_range"),
    ("test_capture_vit.py", "test_empty_images_rejected"),
    ("test_capture_file.py", "test_header_shape_mismatch"),
    ("test_capture_file.py", "test_truncated_file"),
    ("test_capture_file.py", "test_foreign_files"),
    ("test_capture_file.py", "test_killed_writer_leaves_old_file_intact"),
    ("test_widget.py", "test_bad_head_index_gives_a_clear_error"),
    ("test_widget.py", "test_select_rejects_rows_not_in_the_capture"),
]


def test_the_index_names_real_tests() -> None:
    for file, name in ELSEWHERE:
        tree = ast.parse((HERE / file).read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in names, f"{file} has no {name}: update the index of test_bad_inputs.py"


def small_capture(n_layers: int = 2, n_heads: int = 4, d_head: int = 8) -> av.Capture:
    words = [["[CLS]", "the", "cat", "sat", "[SEP]"], ["[CLS]", "a", "dog", "[SEP]"]]
    tokens = pd.DataFrame(
        {
            "text": [w for sent in words for w in sent],
            "seq": [s for s, sent in enumerate(words) for _ in sent],
        }
    )
    rng = np.random.default_rng(0)
    shape = (n_layers, n_heads, len(tokens), d_head)
    queries = rng.standard_normal(shape).astype(np.float32)
    keys = rng.standard_normal(shape).astype(np.float32)
    return av.Capture.from_arrays(tokens, queries, keys, scale=d_head**-0.5, mask="causal")


# --- NaN/inf --------------------------------------------------------------------------


def _write_with_other_tools(cap: av.Capture, path: Path, damage: dict) -> None:
    """Save ``cap``, then rewrite it with plain safetensors (as other code could), with
    ``damage`` ({tensor name: (index, value)}) applied: a file that loads, with NaN/inf."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    cap.save(path)
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
        tensors = {name: f.get_tensor(name).copy() for name in f.keys()}  # noqa: SIM118
    for name, (index, value) in damage.items():
        tensors[name][index] = value
    save_file(tensors, str(path), metadata=metadata)


def test_nan_in_a_loaded_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "damaged.attnviz"
    _write_with_other_tools(
        small_capture(),
        path,
        {"q.1": ((2, 3, 0), np.nan), "k.0": ((1, slice(None), 5), np.inf)},
    )
    cap = av.load(path)  # the header is fine: loading stays lazy and succeeds
    with pytest.raises(ValueError, match=r"queries of layer 1, head 2 contain 1 NaN/inf"):
        cap.qk(1, 2)
    with pytest.raises(ValueError, match=r"keys of layer 0, head 1 contain 9 NaN/inf"):
        cap.qk(0, 1)
    with pytest.raises(ValueError, match="layer 1, head 2"):
        cap.attention(1, 2, 0)
    queries, keys = cap.qk(1, 1)  # the other heads are fine
    assert np.isfinite(queries).all() and np.isfinite(keys).all()

    viz = av.AttentionViz(cap, head=(1, 1))
    with pytest.raises(ValueError, match=r"layer 1, head 2 contain 1 NaN/inf"):
        viz.head = (1, 2)
    assert viz.head == (1, 1)  # the view keeps the head it shows
    assert (viz._qk_meta["layer"], viz._qk_meta["head"]) == (1, 1)
    sent: list[dict] = []
    viz.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    viz._on_message(viz, {"kind": "qk", "id": 7, "layer": 0, "head": 1}, [])
    assert sent[0]["kind"] == "qk" and sent[0]["reply_to"] == 7 and sent[0]["ok"] is False
    assert "layer 0, head 1 contain 9 NaN/inf" in sent[0]["error"]


# --- shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "match"),
    [
        ("one query head", r"queries \(1, 9, 8\) / keys \(4, 9, 8\) do not fit"),
        ("short d_head", r"queries \(4, 9, 4\)"),
        ("fewer key rows", r"keys \(4, 5, 8\) do not fit"),
        ("rows past the end", r"token rows 5\.\.13 are outside 0\.\.8"),
    ],
)
def test_writer_refuses_rows_that_do_not_fit(tmp_path: Path, what: str, match: str) -> None:
    cap = small_capture()
    path = tmp_path / "c.attnviz"
    cap.save(path)
    before = path.read_bytes()
    queries, keys = np.asarray(cap.store.q(0)), np.asarray(cap.store.k(0))
    row = 0
    if what == "one query head":
        queries = queries[:1]  # numpy alone would broadcast it over all 4 heads
    elif what == "short d_head":
        queries = queries[..., :4]
    elif what == "fewer key rows":
        keys = keys[:, :5]
    else:
        row = 5
    with pytest.raises(ValueError, match=match), CaptureWriter(path, cap.manifest, cap.tokens) as w:
        w.write_rows(0, queries, keys, row)
    assert path.read_bytes() == before  # the failed write left the old file as it was
    assert [p.name for p in tmp_path.iterdir()] == ["c.attnviz"]


def test_empty_token_table_is_refused() -> None:
    cap = small_capture()
    empty = cap.tokens.iloc[:0][["text", "seq"]]
    q = np.zeros((1, 1, 0, 4), np.float32)
    with pytest.raises(ValueError, match="tokens is empty"):
        av.Capture.from_arrays(empty, q, q, scale=0.5, mask="causal")


# --- select() -------------------------------------------------------------------------


def test_select_matches_a_mask_by_its_labels() -> None:
    cap = small_capture()
    viz = av.AttentionViz(cap)
    shuffled = cap.tokens.sample(frac=1.0, random_state=3)
    viz.select(shuffled.text == "cat")  # a mask in another order selects the same token
    assert viz.selection.text.tolist() == ["cat"]
    subset = cap.tokens[cap.tokens.seq == 1]
    viz.select(subset.text == "dog")  # a mask over some tokens: the rest are not selected
    assert viz.selection.text.tolist() == ["dog"]
    foreign = pd.Series([True, False], index=["a", "b"])
    with pytest.raises(ValueError, match=r"mask's index does not match.*2 unknown.*'a', 'b'"):
        viz.select(foreign)
    doubled = pd.concat([cap.tokens.text == "cat", cap.tokens.text == "cat"])
    with pytest.raises(ValueError, match="duplicate labels"):
        viz.select(doubled)
    with pytest.raises(ValueError, match=r"row label\(s\) are not in capture\.tokens.*'x'"):
        viz.select(pd.DataFrame({"text": ["cat"]}, index=["x"]))
    assert viz.selection.text.tolist() == ["dog"]  # rejected calls changed nothing


def test_head_out_of_range_keeps_the_view(tmp_path: Path) -> None:
    viz = av.AttentionViz(small_capture(), head=(1, 3))
    for bad in [(2, 0), (0, 4), (-1, 0)]:
        with pytest.raises(traitlets.TraitError, match=r"out of range.*layers 0\.\.1"):
            viz.head = bad
    assert viz.head == (1, 3)
    with pytest.raises(TypeError):
        small_capture().qk(0.5, 0)  # type: ignore[arg-type]


# --- read-only ------------------------------------------------------------------------

# Runs in a child process: an audit hook records every open() and mmap of the capture
# file while the capture is loaded and used through the public API. (Tests run as root
# here, and root ignores a read-only mode, so the hook is what can fail.)
_READ_ONLY_USER = """
import json, os, sys
import attentionviz as av

path, out = sys.argv[1], sys.argv[2]
ino = os.stat(path).st_ino
WRITE = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
seen = {"opens": [], "mmaps": []}

def hook(event, args):
    if event == "open" and args[0] is not None and not isinstance(args[0], int):
        if os.path.abspath(os.fsdecode(args[0])) == os.path.abspath(path):
            seen["opens"].append([str(args[1]), int(args[2] or 0) & WRITE])
    elif event == "mmap.__new__" and args[0] >= 0:
        try:
            if os.fstat(args[0]).st_ino == ino:
                seen["mmaps"].append(int(args[2]))
        except OSError:
            pass

sys.addaudithook(hook)
cap = av.load(path)
tokens = cap.tokens
for layer in range(cap.n_layers):
    for head in range(cap.n_heads):
        q, k = cap.qk(layer, head)
        q[:] = 0  # callers own what qk returns; the file must not see it
        k[:] = 0
cap.attention(1, 2, 0)
viz = av.AttentionViz(cap, head=(1, 2))
viz.head = (0, 3)
viz.select(tokens.text == "cat")
viz.save(os.path.join(out, "view.html"))
cap.save(os.path.join(out, "copy.attnviz"))
av.load(os.path.join(out, "copy.attnviz")).qk(0, 0)
json.dump(seen, open(os.path.join(out, "seen.json"), "w"))
"""


def test_a_read_only_capture_is_never_written(tmp_path: Path) -> None:
    import mmap

    path = tmp_path / "ro" / "c.attnviz"
    path.parent.mkdir()
    small_capture().save(path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = path.stat()
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "use.py"
    script.write_text(textwrap.dedent(_READ_ONLY_USER))
    done = subprocess.run(
        [sys.executable, str(script), str(path), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads((out / "seen.json").read_text())
    assert seen["opens"] and seen["mmaps"], f"the hook saw no use of the file: {seen}"
    assert [o for o in seen["opens"] if o[1] or set(o[0]) & set("wax+")] == []
    assert set(seen["mmaps"]) == {mmap.ACCESS_READ}
    after = path.stat()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert (after.st_mtime_ns, after.st_size, after.st_mode) == (
        before.st_mtime_ns,
        before.st_size,
        before.st_mode,
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.attnviz"]  # no temp files
    assert (out / "view.html").stat().st_size > 0 and (out / "copy.attnviz").exists()
