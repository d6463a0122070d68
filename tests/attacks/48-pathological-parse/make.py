import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    qs = [
        "1. What is " + "$a " * 50_000 + "?\n",
        "2. What is " + "\\$" * 50_000 + "$?\n",
        "3. **What is " + "** a **" * 20_000 + "?\n",
        "4. What is " + "Q: A: " * 30_000 + "?\n",
        "5. What is <!-- id: " + "x" * 100_000 + "\n",
        "6. What is?\n\n" + "<details>" * 10_000 + "\n",
        "7. What is " + "1. " * 50_000 + "?\n",
        "8. What is" + " " * 100_000 + "1. x?\n",
        "9. What is " + "1." * 50_000 + "?\n",
        "10. What is " + "[.." * 30_000 + "[...]?\n",
        "11. What is " + "?" * 100_000 + "\n",
        "12. What is " + "True or False: " * 20_000 + "\n",
        "13. What is " + "(" * 50_000 + "[...]" + "?\n",
        "14. Which of the following " + "choose mark " * 20_000 + "?\n",
    ]
    (bank / "q.md").write_text("## Parse\n\n" + "\n---\n\n".join(qs))
    (bank / "q.answers.md").write_text("## 1\n" + "## " * 30_000 + "\n\n## 2\n" + "`{python}" * 20_000 + "\n")
