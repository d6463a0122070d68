import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'
    B = "\\" + S
    name = f"Deck {P} {S} ] {B}"
    (bank / "deckgen.toml").write_text(
        "name = " + json.dumps(name) + "\n" + 'sources = ["q.md"]\n' +
        "description = " + json.dumps(f"desc {P} {S}") + "\n")
    lines = [
        f"## {S}", "",
        "1. What is the first section called?", "", "---", "",
        f"## {B}", "",
        "2. What is the second section called?", "", "---", "",
        f"## ) {P} ( ] [ \\", "",
        "3. What is the third section called?", "", "---", "",
        f"### Q: What is {S} and {P}?", "", "An answer.", "",
    ]
    (bank / "q.md").write_text("\n".join(lines))
