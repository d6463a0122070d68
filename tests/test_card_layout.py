"""Cards read on a phone and at night: the awkward cases, measured in a real browser.

Uses benchmarks/card_audit.py (the same measure the README's figures for the default bank come
from): the real Anki backend renders each side, Anki's own MathJax typesets it in headless
chromium at 400 px and 800 px, light and night. Skips without chromium or Anki's MathJax,
unless DECKGEN_REQUIRE_BROWSER=1 (see tests/test_browser_cards.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import ROOT, build, write_bank
from test_browser_cards import anki_mathjax, chromium  # noqa: F401 (fixtures)

sys.path.insert(0, str(ROOT / "benchmarks"))

pytestmark = pytest.mark.slow

LONG = "x_" * 30
QUESTIONS = rf"""## Layout

1. What does this print?

   ```python
   result = some_function_with_a_long_name(first_argument=1, second_argument=2, third_argument=3, fourth=4)
   print(result)
   ```

---

2. Which identity holds? $$\frac{{\partial L}}{{\partial W^{{(1)}}}} = \Big(W^{{(2)\top}} \delta^{{(2)}} \odot \big(1 - (y^{{(1)}})^2\big)\Big) x^\top + \lambda_1 \sum_{{i=1}}^{{n}} \lvert w_i \rvert + \lambda_2 \sum_{{i=1}}^{{n}} w_i^2 + \gamma \lVert W \rVert_F^2$$

---

3. Inline, a long one: $\mathbb E\left[\frac{{T'_i T_i}}{{1-p}}\right] = (1-p)\cdot\frac{{T_i}}{{1-p}} + p \cdot 0 + \sum_{{k=1}}^{{K}} \alpha_k \beta_k = T_i$, and a word: {LONG}{LONG}?

---

4. Read the table:

   | a | b | c | d | e | f | g | h |
   |---|---|---|---|---|---|---|---|
   | {LONG} | {LONG} | 3 | 4 | 5 | 6 | 7 | 8 |

   Which column is widest?

---

5. Choose one:

   1. https://example.org/a/very/long/path/that/does/not/break/anywhere/at/all/unless/told/to
   2. `an_identifier_that_is_far_too_long_for_any_phone_screen_to_show_in_one_line_at_all`
"""
ANSWERS = r"""## 1
It prints `3`:

```
some_function_with_a_long_name(first_argument=1, second_argument=2, third_argument=3) -> 3
```

## 2
The first.

## 3
Yes.

## 4
The first.

## 5
Correct: 1
"""


@pytest.fixture(scope="module")
def apkg(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    bank = write_bank(root / "b", QUESTIONS, ANSWERS)
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["apkg"]\n')
    build(bank, root / "out")
    return next((root / "out").glob("*.apkg"))


@pytest.mark.parametrize("width", [400, 800])
@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_awkward_cards_fit_and_read(apkg: Path, anki_mathjax: Path, chromium: str,  # noqa: F811
                                    width: int,
                                    night: bool, tmp_path: Path):
    from card_audit import audit

    results = audit(apkg, anki_mathjax, width, night, tmp_path, chromium)
    assert len(results) == 2 * 5
    assert [(r["name"], r["wide"]) for r in results if r["sideways"]] == []
    assert [(r["name"], r["cut"]) for r in results if r["front"] and r["cut"]] == []
    assert [(r["name"], r["low"]) for r in results if r["low"]] == []
