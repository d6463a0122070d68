import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    n = 30_000
    qs = [
        "1. What is inside?\n\n<div>" + "<div>" * n + "x" + "</div>" * n + "</div>\n",
        "2. What is inside? " + "<b>" * n + "x" + "</b>" * n + "\n",
        "3. What is inside?\n\n" + "<details><summary>a</summary>" * 3000 + "x" + "</details>" * 3000 + "\n",
        "4. What is inside?\n\n<table>" + "<tr><td><table>" * 3000 + "x" + "</table></td></tr>" * 3000 + "</table>\n",
        "5. What is inside?\n\n<ul>" + "<li><ul>" * 5000 + "x" + "</ul></li>" * 5000 + "</ul>\n",
        "6. What is inside? " + "<span>" * n + "unclosed\n",
        "7. What is inside?\n\n<svg>" + "<g>" * 20_000 + "<rect/>" + "</g>" * 20_000 + "</svg>\n",
    ]
    (bank / "q.md").write_text("## HTML\n\n" + "\n---\n\n".join(qs))
