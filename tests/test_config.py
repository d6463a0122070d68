"""deckgen.toml and the defaults for a bank without one: name, place, files, styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_bank
from deckgen import config
from deckgen.config import STYLES
from deckgen.errors import ConfigError


def folder(root: Path, files: dict[str, str]) -> Path:
    """A bank directory without deckgen.toml (unless given), from {relative path: text}."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -- the deck name -----------------------------------------------------------------------------

def test_name_from_deckgen_toml_wins_over_the_heading(tmp_path):
    bank = write_bank(tmp_path / "b", "# A heading\n\n1. What?\n", name="From the file")
    assert config.load(bank).name == "From the file"


def test_name_from_the_first_h1_as_plain_text(tmp_path):
    bank = folder(tmp_path / "some-folder", {"q.md": (
        "Intro line\n\n```python\n# not a heading\n```\n\n## A section first\n\n"
        "# 🧠 *Deep* **learning** [interview](https://x.org) `questions` ![logo](l.png) #\n\n"
        "# A later h1\n\n1. What?\n")})
    assert config.load(bank).name == "Deep learning interview questions"


def test_an_empty_heading_is_skipped_and_setext_counts(tmp_path):
    bank = folder(tmp_path / "b", {"q.md": "# 🚀 ![logo](logo.png)\n\n#\n\nMy *bank*\n===\n\n"
                                           "1. What?\n"})
    assert config.load(bank).name == "My bank"


def test_name_from_the_file_stem_for_a_single_file(tmp_path):
    folder(tmp_path / "b", {"deep-learning_questions.md": "1. What?\n"})
    cfg = config.load(tmp_path / "b" / "deep-learning_questions.md")
    assert cfg.name == "Deep learning questions"
    assert cfg.slug == "deep-learning-questions"


def test_name_from_the_folder_without_toml_or_heading(tmp_path):
    bank = folder(tmp_path / "ml_interview-bank", {"q.md": "1. What?\n", "z.md": "# Later\n"})
    cfg = config.load(bank)
    assert cfg.name == "Ml interview bank"
    assert cfg.name != "Deep Learning Interviews"


def test_name_override_and_empty_names(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n")
    assert config.override(config.load(bank), name="  Other  ").name == "Other"
    assert config.override(config.load(bank), name=None).name == "T"
    with pytest.raises(ConfigError, match="may not be empty"):
        config.override(config.load(bank), name=" ")
    (bank / "deckgen.toml").write_text('# the name\nsources = ["q.md"]\nname = ""\n')
    with pytest.raises(ConfigError, match="deckgen.toml:3: error: 'name' must be a non-empty"):
        config.load(bank)


# -- where outputs go --------------------------------------------------------------------------

def test_outputs_go_beside_the_bank_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bank = write_bank(tmp_path / "b", "1. What?\n")
    assert config.load(bank).out == bank / "build"
    assert config.load(bank / "q.md").out == bank / "build"
    lone = folder(tmp_path / "notes", {"one.md": "1. What?\n"})
    assert config.load(lone / "one.md").out == lone / "build"
    (bank / "deckgen.toml").write_text('name = "T"\nsources = ["q.md"]\nout = "../decks"\n')
    assert config.load(bank).out == bank.parent / "decks"  # relative to the bank, not the CWD
    (bank / "deckgen.toml").write_text(f'name = "T"\nout = "{tmp_path / "abs"}"\n')
    assert config.load(bank).out == tmp_path / "abs"


# -- which bank, which files -------------------------------------------------------------------

def test_default_bank_is_source_else_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path, {"notes.md": "1. What?\n", "README.md": "# Read me\n"})
    cfg = config.load()
    assert cfg.root == Path(".") and cfg.sources == (Path("notes.md"),)
    assert cfg.out == Path("build")
    folder(tmp_path, {"source/q.md": "1. Why?\n"})
    assert config.load().root == Path("source")


def test_default_bank_with_only_a_deckgen_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path, {"deckgen.toml": 'name = "N"\nsources = ["qs/*.md"]\n',
                      "qs/a.md": "1. What?\n"})
    assert config.load().sources == (Path("qs/a.md"),)


def test_no_bank_here_says_what_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path, {"README.md": "# Read me\n", "notes.txt": "1. What?\n"})
    with pytest.raises(ConfigError) as exc:
        config.load()
    message = str(exc.value)
    assert "no question bank here" in message and "./source" in message
    assert "deckgen.toml" in message and ".md question files" in message
    assert str(tmp_path) in message


def test_scanning_skips_docs_and_answers_but_a_named_file_is_read(tmp_path):
    bank = folder(tmp_path / "b", {
        "q.md": "1. What?\n", "Readme.md": "1. Doc?\n", "CHANGELOG.md": "1. Log?\n",
        "contributing.md": "x\n", "LICENSE.md": "x\n", "extra.answers.md": "## 1\nA.\n",
        "answers/a.md": "## 1\nA.\n", "answers/README.md": "About the answers.\n"})
    cfg = config.load(bank)
    assert cfg.sources == (bank / "q.md",)
    assert cfg.answers == (bank / "answers" / "a.md", bank / "extra.answers.md")
    named = config.load(bank / "Readme.md")
    assert named.sources == (bank / "Readme.md",)
    only_readme = folder(tmp_path / "r", {"README.md": "1. What?\n"})
    with pytest.raises(ConfigError, match="no question files in .*README.md"):
        config.load(only_readme)
    assert config.load(only_readme / "README.md").sources == (only_readme / "README.md",)


def test_a_readme_listed_in_deckgen_toml_is_read(tmp_path):
    bank = folder(tmp_path / "b", {"deckgen.toml": 'sources = ["README.md"]\n',
                                   "README.md": "1. What?\n"})
    assert config.load(bank).sources == (bank / "README.md",)


# -- style -------------------------------------------------------------------------------------

def styled(tmp_path: Path, setting: str) -> config.Config:
    bank = folder(tmp_path / "b", {"deckgen.toml": f'name = "T"\n{setting}\n',
                                   "core.md": "1. What?\n", "faq/a.md": "**Q?**\n"})
    return config.load(bank)


def test_style_unset_is_auto_for_every_file(tmp_path):
    cfg = styled(tmp_path, "")
    assert cfg.styles == () and cfg.style_for(cfg.root / "core.md") is None


def test_style_as_one_string(tmp_path):
    cfg = styled(tmp_path, 'style = "heading"')
    assert cfg.styles == (("*", "heading"),)
    assert cfg.style_for(cfg.root / "core.md") == "heading"
    assert cfg.style_for(cfg.root / "faq" / "a.md") == "heading"
    assert styled(tmp_path / "2", 'style = "auto"').style_for(Path("core.md")) is None


def test_style_table_first_match_wins(tmp_path, monkeypatch):
    cfg = styled(tmp_path, '[style]\n"faq/*.md" = "bold"\n"./core.md" = "numbered"\n'
                           '"*.md" = "labelled"\n"old/*.md" = "auto"')
    assert cfg.styles == (("faq/*.md", "bold"), ("core.md", "numbered"), ("*.md", "labelled"),
                          ("old/*.md", "auto"))
    root = cfg.root
    assert cfg.style_for(root / "faq" / "a.md") == "bold"
    assert cfg.style_for(root / "core.md") == "numbered"
    assert cfg.style_for(root / "sub" / "core.md") == "numbered"  # the bare file name
    assert cfg.style_for(root / "other.md") == "labelled"
    assert cfg.style_for(root / "notes.txt") is None
    monkeypatch.chdir(tmp_path)
    relative = config.load(Path("b"))  # a root relative to the CWD, an absolute path
    assert relative.style_for(tmp_path / "b" / "faq" / "a.md") == "bold"
    assert relative.style_for(Path("b/faq/a.md")) == "bold"
    auto = styled(tmp_path / "2", '[style]\n"old/*.md" = "auto"\n"*.md" = "bold"')
    assert auto.style_for(auto.root / "old" / "x.md") is None  # auto matched first
    assert auto.style_for(auto.root / "new.md") == "bold"


@pytest.mark.parametrize("setting,line,shown", [
    ('style = "fancy"', 2, "style: 'fancy' is not a question style"),
    ('[style]\n"core.md" = "numbered"\n"faq/*.md" = "bolt"', 4,
     "style for 'faq/*.md': 'bolt' is not a question style"),
    ('[style]\n"core.md" = 3', 3, "style for 'core.md': 3 is not a question style"),
])
def test_invalid_styles_name_the_place_and_the_valid_ones(tmp_path, setting, line, shown):
    with pytest.raises(ConfigError) as exc:
        styled(tmp_path, setting)
    message = str(exc.value)
    assert f"deckgen.toml:{line}: error: {shown}" in message
    assert f"(valid: {', '.join(STYLES)})" in message


def test_style_of_the_wrong_type(tmp_path):
    with pytest.raises(ConfigError, match="'style' must be one of auto, numbered"):
        styled(tmp_path, "style = 1")


def test_styles_are_the_five_names():
    assert STYLES == ("auto", "numbered", "heading", "bold", "labelled")


@pytest.mark.parametrize("line", ['timeout = nan', 'timeout = inf', 'timeout = -1',
                                  'timeout = "abc"', 'jobs = "abc"', 'jobs = true', 'jobs = 0',
                                  'memory_mb = 12.5', 'memory_mb = 1', 'print = 3',
                                  'templates = 7'])
def test_bad_numbers_and_types_are_located_errors(tmp_path, line):
    bank = tmp_path / "b"
    bank.mkdir()
    (bank / "q.md").write_text("1. What?\n")
    (bank / "deckgen.toml").write_text(f'name = "T"\n{line}\n')
    with pytest.raises(ConfigError) as info:
        config.load(bank)
    assert info.value.diagnostic.loc.line == 2
