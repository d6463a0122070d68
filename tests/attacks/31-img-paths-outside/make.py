import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "secret.png").write_bytes(png(3, 3, text=c))
    (bank / "img").mkdir()
    (bank / "img" / "ok.png").write_bytes(png(2, 2))
    o = outside / "secret.png"
    refs = [f"![a]({o})", "![b](../outside/secret.png)", f"<img src=\"file://{o}\">",
            "<img src=\"../../outside/secret.png\">", "![c](img/../../outside/secret.png)",
            "![d](%2e%2e/outside/secret.png)", "![e](img/..%2f..%2foutside%2fsecret.png)",
            "![f](..\\outside\\secret.png)", "![g](~/../outside/secret.png)",
            "![h](../outside/secret.png?x=1#y)", f"![i](<{o}>)", f"<img src=\"{o}\" alt=x>",
            "![j](./../outside/secret.png)", f"![k](//{str(o).lstrip('/')})",
            "<table><tr><td><img src=\"../outside/secret.png\"></td></tr><tr><td>Figure 1</td></tr></table>",
            "![l](../outside/secret.txt)", f"![m]({outside}/secret.txt)"]
    lines = ["## Paths", ""]
    for n, r in enumerate(refs, 1):
        lines += [f"{n}. What does this figure show?", "", r, "", "---", ""]
    (bank / "q.md").write_text("\n".join(lines[:-2]))
