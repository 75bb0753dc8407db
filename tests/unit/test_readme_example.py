"""The README's "Embedding the domain" example runs as printed (the python block, executed whole)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_one_python_example_under_embedding_the_domain():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Embedding the domain", 1)[1].split("\n## ", 1)[0]
    assert len(python_blocks(section)) == 1
    assert python_blocks(text) == python_blocks(section)


def test_the_readme_example_runs(capsys):
    (block,) = python_blocks(README.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(block, f"{README}:Embedding the domain", "exec"), namespace)  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert "link: https://portail.example.fr/password_new?jeton=tok-1" in printed
    assert namespace["portal"].mailer.sent[0].to == "marie@example.org"


def test_the_embedding_page_shows_the_same_example():
    docs = (README.parent / "docs" / "embedding.md").read_text(encoding="utf-8")
    assert python_blocks(docs)[0] == python_blocks(README.read_text(encoding="utf-8"))[0]
