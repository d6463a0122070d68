"""Computed answers: what cells produce, how it reaches the cards, the cache, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen.errors import BuildFailed

pytestmark = pytest.mark.slow

QUESTIONS = """## Cells

1. What does print show?

---

2. What is the last value?

---

3. Which array?

---

4. Which tensor?

---

5. Derivative of $x^3$?

---

6. Plot it.

---

7. Inline value and setup?

---

8. Given the data below, what is the sum?

```python
data = [1, 2, 3]
```
"""

ANSWERS = """## setup

```{python}
OFFSET = 100
```

## 1
```{python}
print("hello from a cell")
```

## 2
```{python}
#| echo: false
a = 6
a * 7
```

## 3
```{python}
import numpy as np
np.arange(6).reshape(2, 3)
```

## 4
```{python}
import torch
torch.ones(2, 2, dtype=torch.int64).shape
```

## 5
```{python}
import sympy as sp
x = sp.symbols("x")
sp.diff(x**3, x)
```

## 6
```{python}
#| fig-cap: A line
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
```

## 7
```{python}
#| echo: false
value = OFFSET + 1
```

The value is `{python} value` and twice that is `{python} f"{2 * value:d}"`.
In a formula: $v = `{python} value`$ and $$\\frac{d}{dx} x^3 = `{python} __import__("sympy").diff("x**3")`$$

## 8
```{python}
#| question-code: 1
#| echo: false
print("sum =", sum(data))
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cells")
    bank = write_bank(root / "bank", QUESTIONS, ANSWERS)
    out = root / "out"
    result = build(bank, out)
    return bank, out, result, {c["ref"]: c for c in cards_json(out)["cards"]}


def test_printed_text(built):
    back = built[3]["Q1"]["back"]
    assert '<pre class="output">hello from a cell\n</pre>' in back
    assert 'class="highlight lang-python"' in back  # echo defaults to true: code shown


def test_last_expression_value_and_echo_false(built):
    back = built[3]["Q2"]["back"]
    assert '<pre class="output">42</pre>' in back and "highlight" not in back


def test_numpy_array_and_torch_tensor(built):
    assert "array([[0, 1, 2],\n       [3, 4, 5]])" in built[3]["Q3"]["back"]
    assert "torch.Size([2, 2])" in built[3]["Q4"]["back"]


def test_sympy_result_is_latex_inside_mathjax_delimiters(built):
    assert '<div class="math">\\[3 x^{2}\\]</div>' in built[3]["Q5"]["back"]


def test_matplotlib_figure_is_svg_media(built):
    _, out, result, cards = built
    card = cards["Q6"]
    assert len(card["media"]) == 1 and card["media"][0].endswith(".svg")
    svg = result.deck.media[card["media"][0]]
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert "<figcaption>A line</figcaption>" in card["back"]


def test_svg_is_byte_identical_across_runs(built, tmp_path):
    bank, _, first, cards = built
    again = build(bank, tmp_path / "again", rerun=True)
    name = cards["Q6"]["media"][0]
    assert again.executed == 8
    assert again.deck.media[name] == first.deck.media[name]


def test_inline_values_and_shared_setup(built):
    back = built[3]["Q7"]["back"]
    assert "The value is 101 and twice that is 202." in back
    assert "\\(v = 101\\)" in back and "\\[\\frac{d}{dx} x^3 = 3 x^{2}\\]" in back


def test_question_code_reuse_follows_edits(built, tmp_path):
    bank, _, _, cards = built
    assert "sum = 6" in cards["Q8"]["back"]
    q = bank / "q.md"
    q.write_text(q.read_text().replace("data = [1, 2, 3]", "data = [10, 20, 30]"))
    try:
        build(bank, tmp_path / "out")
        assert "sum = 60" in cards_json(tmp_path / "out")["cards"][7]["back"]
    finally:
        q.write_text(QUESTIONS)


def test_failing_cell_fails_the_build_with_file_and_line(tmp_path):
    bank = write_bank(tmp_path / "b", "1. Q?\n", "## 1\nText.\n\n```{python}\nx = 1\n"
                      "y = undefined_name + x\n```\n")
    out = tmp_path / "out"
    with pytest.raises(BuildFailed) as info:
        build(bank, out)
    diag = next(d for d in info.value.diagnostics if d.code == "cell-error")
    assert diag.loc.path.endswith("answers/a.md") and diag.loc.line == 6
    assert "NameError" in diag.message and "undefined_name" in diag.message
    assert not list(out.glob("t.*")) and not list(out.glob("t-*"))  # no output written
    assert not list(out.glob("cache/*/*.json"))  # a failure is never cached as a result
    # `deckgen check` (which runs nothing) remembers the failure until the code changes
    from deckgen import config
    from deckgen.execute.runner import cell_report
    from deckgen.pipeline import gather
    cfg = config.override(config.load(bank), out=out)
    assert [d.code for d in cell_report(gather(cfg).banks, cfg)] == ["failing-cell"]


def test_timeout_is_reported(tmp_path):
    bank = write_bank(tmp_path / "b", "1. Q?\n",
                      "## 1\n```{python}\n#| timeout: 1\nimport time\ntime.sleep(30)\n```\n")
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    diag = next(d for d in info.value.diagnostics if d.code == "cell-timeout")
    assert diag.loc.line == 2 and "timed out after 1 s" in diag.message


def _counting_bank(root: Path, counter: Path, question: str = "1. How many runs?\n",
                   code: str = "n = 1") -> Path:
    answers = ("## 1\n```{python}\n"
               f"open({str(counter)!r}, 'a').write('run\\n')\n{code}\nn\n```\n")
    return write_bank(root, question, answers)


def test_cache_hit_runs_nothing_and_prose_edits_do_not_invalidate(tmp_path):
    counter = tmp_path / "runs.txt"
    out = tmp_path / "out"
    bank = _counting_bank(tmp_path / "b", counter)
    assert build(bank, out).executed == 1
    (out / ".deckgen-build.json").unlink()  # force the full path: parse, cache lookup, render
    second = build(bank, out)
    assert second.executed == 0 and not second.skipped
    _counting_bank(tmp_path / "b", counter, question="1. How many runs, reworded?\n")
    assert build(bank, out).executed == 0
    assert counter.read_text().count("run") == 1
    _counting_bank(tmp_path / "b", counter, code="n = 2")
    assert build(bank, out).executed == 1
    assert counter.read_text().count("run") == 2
    assert "<pre class=\"output\">2</pre>" in cards_json(out)["cards"][0]["back"]


def test_corrupt_cache_entry_is_a_miss(tmp_path):
    counter = tmp_path / "runs.txt"
    out = tmp_path / "out"
    bank = _counting_bank(tmp_path / "b", counter)
    build(bank, out)
    for entry in (out / "cache").glob("*/*.json"):
        entry.write_text("{not json")
    (out / ".deckgen-build.json").unlink()
    assert build(bank, out).executed == 1


def test_no_exec_uses_the_cache_only(tmp_path):
    counter = tmp_path / "runs.txt"
    out = tmp_path / "out"
    bank = _counting_bank(tmp_path / "b", counter)
    result = build(bank, out, execute=False)
    assert result.executed == 0 and not counter.exists()
    assert [d.code for d in result.diagnostics] == ["not-computed"]
    build(bank, out)
    assert build(bank, out, execute=False).diagnostics == []


def test_cells_outputs_in_json_are_html(built):
    data = cards_json(built[1])
    assert data["format"] == "deckgen-cards" and data["version"] == 1


def test_a_value_shown_as_a_memory_address_is_not_shown():
    from deckgen.execute.worker import display_data

    assert display_data([object()]) is None  # '[<object object at 0x7f...>]'
    assert display_data(object()) is None
    assert display_data([1, 2]) == {"text/plain": "[1, 2]"}
    assert display_data("at 0x12") == {"text/plain": "'at 0x12'"}
