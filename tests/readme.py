"""The README's code blocks, for the tests that run them."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def python_block(section: str) -> str:
    """The first ```python block under the `## section` heading."""
    text = README.read_text().split(f"## {section}\n", 1)[1]
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def run_block(section: str, capsys) -> tuple[dict, str, str]:
    """Execute the block; returns its namespace, what it printed, and its last comment."""
    code = python_block(section)
    namespace: dict = {"__name__": "__main__"}  # as `python script.py` runs it
    exec(compile(code, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out.strip()
    return namespace, printed, code.rstrip().rsplit("# ", 1)[1].strip()


def console_commands(section: str) -> list[str]:
    """The `$ ` command lines of the first ```console block under `## section`."""
    text = README.read_text().split(f"## {section}\n", 1)[1]
    block = text.split("```console\n", 1)[1].split("```", 1)[0]
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]
