import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'
    B = "\\" + S
    T = "`"
    lines = [
        "## Code", "",
        f"1. What is `` a ` {P} ` b `` and ``` x `` {P} `` y ``` here?", "", "---", "",
        f"2. What is `{B}` and `{S}` and `a\\` here?", "", "---", "",
        "3. What does this print?", "", "````text", "```", P, "```", S, B, "````", "", "---", "",
        "4. And this one?", "", "~~~", "```", P, "~~~", "", "---", "",
        "5. And this one?", "", f'```x"); {P[1:]}; ("', "body", "```", "", "---", "",
        "6. And this one?", "", f"```{S}", "body", "```", "", "---", "",
        "7. And this one?", "", f"```python {B}", "print(1)", "```", "", "---", "",
        f"8. What is <code>{P}</code> and <pre>{B}</pre> here?", "", "---", "",
        "9. And an indented block?", "", "", f"    {P}", f"    {B}", "    ```", f"    {P}", "",
        "---", "",
        f"10. What is `{T * 3}` then {P}?", "", "---", "",
        "11. What does this print?", "", "```", "a" + T * 3, f"`{P}`", "```", "",
    ]
    (bank / "q.md").write_text("\n".join(lines))
