"""The renderer seam (deckgen/render/__init__.py): one registry, one protocol, no hidden edges.

A format is a module and one line in ``FORMATS``; a renderer may write several files or none
(a push to a running Anki writes none) and the up-to-date record follows what it reports;
its settings table is checked when the config is, whether the format is built or not. And the
import graph keeps to the architecture: no stage imports a renderer, no renderer another.
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

from conftest import ROOT, build, write_bank
from deckgen import config, render
from deckgen.errors import Diagnostic
from deckgen.render import Format, Report

RENDERERS = {"deckgen.render.anki": "apkg", "deckgen.render.jsonlist": "json",
             "deckgen.render.csvlist": "csv", "deckgen.render.pdf": "pdf",
             "deckgen.render.typst_markup": "pdf", "deckgen.render.typst_run": "pdf"}
"""Each renderer's modules -> its format."""
STAGES = ("deckgen/parse", "deckgen/execute", "deckgen/answers.py", "deckgen/binding.py",
          "deckgen/cards.py", "deckgen/identity.py", "deckgen/pipeline.py", "deckgen/config.py",
          "deckgen/media.py", "deckgen/shapes.py", "deckgen/model.py", "deckgen/uptodate.py",
          "deckgen/lint.py", "deckgen/markdown.py", "deckgen/atomic.py", "deckgen/compose.py",
          "deckgen/content.py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_stage_imports_a_renderer_and_no_renderer_another():
    stage_files = [p for s in STAGES for p in
                   (sorted((ROOT / s).rglob("*.py")) if (ROOT / s).is_dir() else [ROOT / s])]
    assert len(stage_files) > 20
    for path in stage_files:
        assert not _imports(path) & set(RENDERERS), path
    for module, fmt in RENDERERS.items():
        path = ROOT / (module.replace(".", "/") + ".py")
        others = {m for m, f in RENDERERS.items() if f != fmt}
        assert not _imports(path) & others, module
    # and every format of the registry is one of these renderers
    assert {f.renderer.partition(":")[0] for f in render.FORMATS.values()} <= set(RENDERERS)


def test_cards_are_content_and_each_output_renders_it_itself():
    """No stage writes HTML (the cards stage builds deckgen.content nodes), and no output
    parses another's markup back: the PDF and the plain text read the content."""
    for stage in ("deckgen/cards.py", "deckgen/compose.py", "deckgen/content.py",
                  "deckgen/model.py"):
        assert not {i for i in _imports(ROOT / stage) if i.startswith("deckgen.render.html")}
    for module in ("deckgen/render/typst_markup.py", "deckgen/render/pdf.py",
                   "deckgen/render/plain.py"):
        assert not {i for i in _imports(ROOT / module)
                    if i.startswith(("html.parser", "deckgen.render.html"))}, module
        assert "HTMLParser" not in (ROOT / module).read_text(), module


class _Pushed:
    """A renderer that writes no file (as a push to a running Anki would)."""
    calls: list[int] = []

    def check(self, settings, where):
        bad = [k for k in settings if k != "port"]
        return [Diagnostic(where, f"[push] has no setting '{k}'", "push-options") for k in bad]

    def render(self, deck, target):
        self.calls.append(len(deck.cards))
        return Report(actions=[f"push: {len(deck.cards)} notes sent"])


@pytest.fixture
def push_format(monkeypatch):
    module = types.ModuleType("deckgen_test_push")
    module.Pushed = _Pushed  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deckgen_test_push", module)
    fmt = Format("push", "test push", "deckgen_test_push:Pushed", table="push", default=False)
    monkeypatch.setitem(render.FORMATS, "push", fmt)
    monkeypatch.setitem(render.SETTINGS_TABLES, "push", fmt)
    monkeypatch.setattr(config, "SETTINGS_TABLES", render.SETTINGS_TABLES)
    _Pushed.calls = []
    return fmt


def test_a_renderer_that_writes_no_file_fits_the_seam(tmp_path: Path, push_format):
    bank = write_bank(tmp_path / "b", "## S\n\n1. What?\n", "## 1\nThat.\n")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["push", "json"]\n\n[push]\nport = 8765\n')
    first = build(bank, tmp_path / "out")
    assert _Pushed.calls == [1] and "push: 1 notes sent" in first.notes
    assert set(first.files) == {tmp_path / "out" / "t.json"} and "push" not in first.written
    again = build(bank, tmp_path / "out")  # the record holds a format without files
    assert again.skipped and _Pushed.calls == [1]


def test_a_format_s_settings_are_checked_even_when_it_is_not_built(tmp_path: Path,
                                                                   push_format):
    from deckgen.pipeline import gather

    bank = write_bank(tmp_path / "b", "## S\n\n1. What?\n", "## 1\nThat.\n")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["json"]\n\n[push]\nprot = 1\n')
    diags = gather(config.load(bank)).diagnostics
    [bad] = [d for d in diags if d.code == "push-options"]
    assert bad.loc is not None and bad.loc.line == 6 and "'prot'" in bad.message


def test_the_cli_lists_the_registry_s_formats():
    from click.testing import CliRunner

    from deckgen.cli import main

    out = CliRunner().invoke(main, ["build", "--help"]).output
    for name in render.FORMATS:
        assert f"{name}," in " ".join(out.split())


def test_the_architecture_notes_point_at_real_files():
    import re

    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    paths = set(re.findall(r"`((?:deckgen|tests|renderers|benchmarks|docs)/[\w./<>-]*)`", doc))
    assert len(paths) > 30
    for path in paths:
        if "<" not in path:
            assert (ROOT / path).exists(), path
