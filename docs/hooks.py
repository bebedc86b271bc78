"""mkdocs hooks: screenshots come from the e2e tests' output (test-output/e2e, written by
`make test-e2e`), never drawn by hand; a missing one becomes a visible warning on the page.
The benchmarks page includes bench/RESULTS.md as `make bench` wrote it."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "e2e"
_IMAGE = re.compile(r"!\[([^\]]*)\]\(screenshots/([\w./-]+\.png)\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:)[^)]+\)")  # a link to a file of the repo


def on_files(files: Files, config) -> Files:
    """Serve every e2e screenshot under screenshots/ (generated files, not in docs/)."""
    if SHOTS.is_dir():
        for shot in sorted(SHOTS.rglob("*.png")):
            uri = f"screenshots/{shot.relative_to(SHOTS).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(shot)))
    return files


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    def image(match: re.Match) -> str:
        alt, name = match.group(1), match.group(2)
        if (SHOTS / name).is_file():
            return match.group(0)
        return (
            f'\n!!! warning "Screenshot missing: {name}"\n    {alt}. This picture is taken by '
            "the end-to-end tests; run `make test-e2e`, then `make docs`.\n"
        )

    markdown = _IMAGE.sub(image, markdown)
    if "{{ bench/RESULTS.md }}" in markdown:
        results = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
        results = results.split("\n", 1)[1]  # its own title: the page has one
        # The per-benchmark reports stay in the repo (bench/results/): keep the link text.
        markdown = markdown.replace("{{ bench/RESULTS.md }}", _LINK.sub(r"\1", results))
    return markdown
