import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    s = str(outside / "secret.txt")

    def code(n):
        p = str(outside / f"pwned-{n}.txt")
        return f"open({p!r}, 'w').write('ran'); print(open({s!r}).read())"

    def inline(n):
        p = str(outside / f"pwned-{n}.txt")
        return f"open({p!r}, 'w').write('ran') or open({s!r}).read()"

    q = ["# Cells", "", "## Basics", ""]
    for n in range(1, 10):
        q += [f"{n}. What does cell {n} print?", "", "---", ""]
    q += ["10. Given the data below:", "", "```python", code("q10"), "```", "",
          "    1. What is the first result?", "    2. What is the second result?", "", "---", "",
          f"11. What is `{{python}} {inline('q11')}` here?", "", "---", "",
          "12. What does the details answer compute?", "",
          "<details><summary>Answer</summary>", "", "```{python}", code("q12"), "```", "",
          "</details>", ""]
    (bank / "q.md").write_text("\n".join(q))
    a = ["## setup", "", "```{python}", code("setup"), "```", "",
         "## 1", "```{python}", code(1), "```", "",
         "## 2", "~~~{python}", code(2), "~~~", "",
         "## 3", "```{python echo=false}", code(3), "```", "",
         "## 4", "```{Python}", code(4), "```", "",
         "## 5", "```{.python}", code(5), "```", "",
         "## 6", "````{python}", code(6), "````", "",
         "## 7", "``` {python}", "#| echo: false", code(7), "```", "",
         "## 8", f"Inline: `{{python}} {inline(8)}`.", "",
         "## 9", f"Math: $x = `{{python}} {inline(9)}`$ and `{{python}}{inline('9b')}`.", "",
         "## 10.1", "```{python}", "#| question-code: 1", code("10-1"), "```", "",
         "## 10.2", "   ```{python}", "   " + code("10-2"), "   ```", "",
         "## 11", "Anything.", ""]
    (bank / "answers").mkdir(exist_ok=True)
    (bank / "answers" / "q.md").write_text("\n".join(a))
