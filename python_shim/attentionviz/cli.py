"""Command line: ``attentionviz <command> ...``.

Commands are argparse subparsers; each has an ``_add_<name>`` that declares its arguments
and a handler in ``HANDLERS`` taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


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

    from .capture import capture

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


PARSERS: dict[str, Callable[[argparse._SubParsersAction], None]] = {"capture": _add_capture}
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"capture": _cmd_capture}


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
    except (ValueError, OSError) as e:  # our errors name the problem; no traceback needed
        print(f"attentionviz {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
