import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10)]
    (img / "laughs.svg").write_text('<?xml version="1.0"?><!DOCTYPE svg [' + "".join(ents) + ']>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&l9;</text></svg>')
    (img / "quad.svg").write_text('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "' + "x" * 20_000 + '">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>' + "&a;" * 50_000 + "</text></svg>")
    (bank / "q.md").write_text("## Entities\n\n1. What does ![a](img/laughs.svg) show?\n\n---\n\n"
                               "2. What does ![b](img/quad.svg) show?\n")
