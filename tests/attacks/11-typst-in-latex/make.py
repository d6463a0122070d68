import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)                       # #("CANA" + "RY-...")
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'     # breaks out of a Typst string
    B = "\\" + S                            # with a backslash before the quote
    forms = [
        f"\\tag{{{P}}}", f"\\tag*{{{P}}}", f"\\text{{{P}}}", f"\\text{{x{S}y}}",
        f"\\text{{x{B}y}}", f"\\operatorname{{{P}}}", f"\\operatorname*{{x{S}y}}",
        f"\\mathrm{{{P}}}", f"\\mathrm{{x{S}y}}", f"\\textbf{{x{S}y}}", f"\\mbox{{x{S}y}}",
        f"\\texttt{{{P}}}", f"\\textit{{x{S}}}", f"\\emph{{{P}}}", f"\\hspace{{1pt) {P} #h(1pt}}",
        f"\\begin{{array}}{{c{S}}}a\\end{{array}}", f"\\verb|{P}|", f"\\color{{red) {P} (}}{{x}}",
        f"\\#{P[1:]}", f"\\sqrt[{P}]{{x}}", f"\\frac{{{P}}}{{2}}", f"\\label{{{P}}}",
        f"\\overset{{{P}}}{{x}}", f"\\xrightarrow[{P}]{{y}}", f"\\underbrace{{x}}_{{\\text{{{P}}}}}",
        f"\\mathbb{{{P}}}", f"\\boldsymbol{{x{S}}}", f"\\begin{{{P}}}x\\end{{{P}}}",
        f"\\rule{{1pt) {P} (}}{{1pt}}", f"\\textcolor{{red\\\") {P} (\\\"}}{{x}}",
        f"x {P} y", f"\\mathit{{{S}}}", f"\\symbf{{{P}}}", f"\\text{{{{{P}}}}}",
    ]
    q = ["## Formulas", ""]
    for n, f in enumerate(forms, 1):
        q += [f"{n}. What is $${f}$$ here?" if n % 7 == 0 else f"{n}. What is ${f}$ here?", "",
              "---", ""]
    n = len(forms) + 1
    q += [f"{n}. And this display?", "", "$$", f"\\text{{a{S}b}} \\tag{{{P}}}", "$$", ""]
    (bank / "q.md").write_text("\n".join(q))
