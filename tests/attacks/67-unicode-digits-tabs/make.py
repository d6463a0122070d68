import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "num.md").write_text(
        "## Digits\n\n1. Plain?\n\n---\n\n\u0662. Arabic-Indic two?\n\n---\n\n\uff13. Fullwidth three?\n\n"
        "---\n\n\U0001d7d2. Math four?\n\n---\n\n\u00b2. Superscript?\n\n---\n\n\u2167. Roman eight?\n\n"
        "---\n\n### Q\u00b3: Heading superscript?\n\nAn answer.\n\n### Q\u0669: Heading Arabic nine?\n\nAnother.\n\n"
        "---\n\n10.\tTab after the marker?\n\n\t1.\tTabbed part?\n  \t2. Mixed part?\n\u00a0\u00a0\u00a0\u00a03. NBSP part?\n\n"
        "---\n\n\u200b11. Zero-width?\n")
    (bank / "num.answers.md").write_text(
        "## 1\nPlain.\n\n## \u0662\nArabic.\n\n## \uff13\nFull.\n\n## \u00b2\nSup.\n\n## 1.\u00b2\nPart.\n\n"
        "## \U0001d7d2\nMath.\n\n## \u2167\nRoman.\n\n## 10.\u0661\nTab.\n")
