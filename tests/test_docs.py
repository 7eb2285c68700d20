"""The docs cannot drift: the settings reference is generated from the code, and every relative
link in README.md and docs/ points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maitre.config_reference import PAGE, settings_markdown

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# [text](target "title") and ![alt](target); the target may be wrapped in <…>.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
EXTERNAL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def relative_links(text: str) -> list[str]:
    """Link targets that name a file of the repository (no URL scheme, not only an anchor)."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    targets = INLINE_LINK.findall(text) + REFERENCE_DEF.findall(text)
    return [t for t in targets if not EXTERNAL.match(t) and not t.startswith("#")]


def test_the_settings_reference_is_generated_from_the_code() -> None:
    page = ROOT / PAGE
    assert page.read_text(encoding="utf-8") == settings_markdown(), (
        f"{PAGE} is stale: run `uv run python -m maitre.config_reference --write`"
    )


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_files_that_exist(path: Path) -> None:
    broken = []
    for target in relative_links(path.read_text(encoding="utf-8")):
        file_part = target.split("#", 1)[0].split("?", 1)[0]
        if not (path.parent / file_part).exists():
            broken.append(target)
    assert broken == [], f"{path.relative_to(ROOT)} links to files that do not exist: {broken}"


def test_the_link_reader_finds_links_and_skips_code_and_urls() -> None:
    text = (
        "See [the guide](docs/operate/deploy.md#tls), ![a screen](docs/host-screen.png) and\n"
        "[the spec](https://example.com/x.md), [above](#layout), `[not](a-link.md)`.\n"
        "```\n[also not](inside-a-fence.md)\n```\n"
        "[ref]: docs/reference/cli.md\n"
    )
    assert relative_links(text) == [
        "docs/operate/deploy.md#tls",
        "docs/host-screen.png",
        "docs/reference/cli.md",
    ]
