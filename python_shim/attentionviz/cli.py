"""Command line: ``attentionviz <command> ...``.

Commands are argparse subparsers; each has an ``_add_<name>`` that declares its arguments
and a handler in ``HANDLERS`` taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from traitlets import TraitError


def _add_capture(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "capture",
        help="run a model over texts and write a .attnviz capture",
        description="Capture Q/K of every layer and head of a local transformers model.",
    )
    p.add_argument(
        "--model", required=True, help="local model folder (config + weights + tokenizer)"
    )
    p.add_argument(
        "--texts", required=True, help="UTF-8 text file, one text per line (blank lines skipped)"
    )
    p.add_argument("-o", "--output", required=True, help="output file, e.g. corpus.attnviz")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=None, help="truncate texts to N tokens")
    p.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _cmd_capture(args: argparse.Namespace) -> int:
    from transformers import AutoModel, AutoTokenizer

    from .models.capture import capture

    path = Path(args.texts)
    texts = [line.rstrip("\r\n") for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError(f"{path} holds no non-blank lines; put one text per line")
    model = AutoModel.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    cap = capture(
        model,
        tokenizer,
        texts,
        batch_size=args.batch_size,
        max_length=args.max_length,
        dtype=args.dtype,
        progress=not args.no_progress,
        out=args.output,
    )
    print(f"wrote {args.output}: {cap!r}")
    return 0


def _head(text: str) -> tuple[int, int]:
    try:
        layer, head = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LAYER,HEAD such as 2,3; got {text!r}") from None
    return layer, head


def _add_html(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "html",
        help="write a .attnviz capture as one self-contained, offline HTML page",
        description="Write the interactive view of a capture as a standalone HTML file "
        "(the widget bundle and the data inlined; opens from disk without a kernel).",
    )
    p.add_argument("capture", help="a .attnviz file, or a folder of .attnviz shards")
    p.add_argument("-o", "--output", required=True, help="output file, e.g. view.html")
    p.add_argument(
        "--head",
        type=_head,
        default=None,
        metavar="LAYER,HEAD",
        help="open on this head's scatterplot (default: the matrix view of every head)",
    )
    p.add_argument(
        "--only-head",
        action="store_true",
        help="embed only the --head shown (smaller file; the matrix view is then empty)",
    )
    p.add_argument("--projection", choices=["pca", "umap", "tsne"], default="umap")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _cmd_html(args: argparse.Namespace) -> int:
    from .core.loading import load
    from .widget.html import to_html
    from .widget.viz import AttentionViz

    if args.only_head and args.head is None:
        raise ValueError("--only-head needs --head LAYER,HEAD to say which head to keep")
    cap = load(args.capture)
    viz = AttentionViz(cap, head=args.head, projection=args.projection)
    written = to_html(
        viz,
        args.output,
        heads="current" if args.only_head else "all",
        progress=not args.no_progress,
    )
    print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB): {cap!r}")
    return 0


PARSERS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "capture": _add_capture,
    "html": _add_html,
}
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "capture": _cmd_capture,
    "html": _cmd_html,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attentionviz", description="AttentionViz-style views of transformer attention."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in PARSERS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 error with a one-line message)."""
    args = build_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except (ValueError, OSError, TraitError) as e:  # ours name the problem; no traceback
        print(f"attentionviz {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
