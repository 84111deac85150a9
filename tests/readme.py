"""The code blocks of the README and the documentation's pages, for the tests that run them.

A section is found by its heading text (any level) in the README first, then in the
pages under `docs/`; a test names the section, wherever the text now lives.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def section_text(section: str) -> str:
    """The text after the heading `section` (of any level) in the first document with it."""
    heading = re.compile(rf"^#+ {re.escape(section)}\n", re.MULTILINE)
    for document in DOCUMENTS:
        found = heading.search(document.read_text())
        if found:
            return document.read_text()[found.end() :]
    raise LookupError(f"no document has a section {section!r}")


def python_block(section: str) -> str:
    """The first ```python block under the `section` heading."""
    return section_text(section).split("```python\n", 1)[1].split("```", 1)[0]


def run_block(section: str, capsys) -> tuple[dict, str, str]:
    """Execute the block; returns its namespace, what it printed, and its last comment."""
    code = python_block(section)
    namespace: dict = {"__name__": "__main__"}  # as `python script.py` runs it
    exec(compile(code, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out.strip()
    return namespace, printed, code.rstrip().rsplit("# ", 1)[1].strip()


def console_commands(section: str) -> list[str]:
    """The `$ ` command lines of the first ```console block under `section`."""
    block = section_text(section).split("```console\n", 1)[1].split("```", 1)[0]
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def blocks(document: Path, language: str) -> list[tuple[str, str]]:
    """`(heading, code)` of every ```language block of `document`, under its nearest heading."""
    found, heading = [], ""
    for part in re.split(r"(^#+ .*\n)", document.read_text(), flags=re.MULTILINE):
        if re.match(r"^#+ ", part):
            heading = part.lstrip("#").strip()
            continue
        for code in re.findall(rf"^```{language}\n(.*?)^```", part, re.MULTILINE | re.DOTALL):
            found.append((heading, code))
    return found
