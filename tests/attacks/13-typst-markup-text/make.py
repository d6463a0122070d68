import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'
    E = P.replace("#", "&#35;", 1)
    lines = [
        f"## Section {P}", "",
        f"1. What is {P} in plain text?", "", "---", "",
        f"2. What is *{P}* and **{P}** and _{P}_?", "", "---", "",
        f"3. What is ] {P} [ and ]] {P} [[ here?", "", "---", "",
        f"4. What is \\\\{P} and \\{P} and \\\\\\{P}?", "", "---", "",
        f"5. What is {E} and &#x23;{P[1:]} here?", "", "---", "",
        f"6. What is [{P}](https://example.com/a) and <https://example.com/{P}>?", "", "---", "",
        f"7. What is <b>{P}</b> and <sub>] {P} [</sub> and <span title=\"{S}\">x</span>?", "",
        "---", "",
        f"### ] {P} [ {S}", "",
        f"8. What about {S} in a string?", "", "---", "",
        "9. Which item holds it?", "", f"    - {P}", f"    - ] {P}", f"    - {S}", "", "---", "",
        "10. Which cell holds it?", "", "| a | b |", "|---|---|", f"| {P} | ] {P} [ |", "",
        "---", "",
        "11. What does the quote say?", "", f"> {P}", f"> ] {P} [", "", "---", "",
        "12. Typst specials: @ref <label> = heading // comment /* open comment", "",
        f"- list + item / term: x ~ \\u{{23}} $5 * _ ` {P}?", "", "---", "",
        f"13. What is \\\\\\\\{P}?", "", "---", "",
        "14. What is a line ending in a backslash\\", f"{P}?", "", "---", "",
        f"15. **True or False:** {P} is {S}.", "", "---", "",
        f"16. Fill the blank: {P} [...] {S}.", "",
    ]
    (bank / "q.md").write_text("\n".join(lines))
    (bank / "q.answers.md").write_text("## 15\n**True.** " + P + "\n\n## 16\n1. " + P +
                                       "\n\nBecause " + S + ".\n")
