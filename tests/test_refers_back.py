"""A question that continues the one before it carries what it continues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank

pytestmark = pytest.mark.slow

BANK = """## Networks

1. Further to the above, what is first?

---

2. A network has weights $w_1 = 2$ and $w_2 = 3$.

<img src="img/a.png" alt="the network">

What is its output for $x = (1, 1)$?

---

3. Repeat the above with $x = (2, 0)$.

---

4. A layer has 10 inputs and 5 outputs.

   1. How many weights has it?
   2. Further to the above, how many with biases?
   3. Why do biases help?

---

5. About question 4: the above numbers are small?

---

6. Still referring to the layer, what if it had 20 inputs?

   1. Weights?
   2. Biases?
"""


def test_a_question_that_refers_back_carries_what_it_refers_to(tmp_path: Path):
    import shutil
    bank = write_bank(tmp_path / "b", BANK)
    (bank / "img").mkdir()
    shutil.copyfile(Path(__file__).parent / "banks" / "tiny" / "img" / "mlp-1.png",
                    bank / "img" / "a.png")
    build(bank, tmp_path / "out")
    cards = {c["ref"]: c for c in cards_json(tmp_path / "out")["cards"]}

    def earlier(ref: str) -> str:
        m = re.search(r'<details class="earlier" open><summary>(.*?)</summary>(.*?)</details>',
                      cards[ref]["context"], re.S)
        return f"{m.group(1)}: {re.sub(r'<[^>]+>', '', m.group(2)).strip()}" if m else ""

    assert earlier("Q1") == ""  # nothing before it
    q3 = earlier("Q3")
    assert q3.startswith("The question before, which this continues: A network has weights")
    assert "What is its output" in q3 and "img" in cards["Q3"]["context"]  # the figure too
    assert cards["Q3"]["media"] == cards["Q2"]["media"] != []
    assert earlier("Q4.2") == "The part before, which this continues: How many weights has it?"
    assert earlier("Q4.1") == earlier("Q4.3") == earlier("Q5") == ""
    # a stem that refers back: every part carries the question before
    assert earlier("Q6.1") == earlier("Q6.2") != ""
    assert earlier("Q6.1").startswith("The question before, which this continues: About question 4")
