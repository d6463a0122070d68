import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'
    img = bank / "img"
    img.mkdir()
    (img / "ok.png").write_bytes(png(8, 8))
    odd = f"q{S}z.png"
    (img / odd).write_bytes(png(8, 9))
    esc = lambda s: s.replace("&", "&amp;").replace('"', "&quot;")  # noqa: E731
    lines = [
        "## Figures", "",
        "1. What does the figure show?", "",
        f'<img src="img/ok.png" width="10pt) + {esc(P[1:])} + (" height="1em); {esc(P[1:])}; (">', "",
        "---", "",
        "2. What does this figure show?", "",
        "<table align=\"center\">",
        f'  <tr><td align="center{esc(S)}"><img src="img/ok.png" alt="{esc(S)}" style="width: 1px) {esc(P)}"/></td></tr>',
        f"  <tr><td align=\"center\"> Figure 1: {P} ] {S} </td></tr>", "</table>", "",
        "---", "",
        f"3. What does ![{S} ] {P}](img/ok.png) show?", "", "---", "",
        "4. What does the oddly named figure show?", "", f"<img src=\"img/{esc(odd)}\">", "",
        "---", "",
        f"5. And this one? ![x](<img/{odd}>)", "",
    ]
    (bank / "q.md").write_text("\n".join(lines))
