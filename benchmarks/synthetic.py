"""Write a synthetic bank of N questions (no cells) for benchmarks: python synthetic.py DIR N."""

from __future__ import annotations

import sys
from pathlib import Path

KINDS = [
    ("{n}. What does layer {n} compute for input $x_{{{n}}} \\in \\mathbb{{R}}^d$?\n",
     "## {n}\nIt applies $W_{{{n}}}x + b$ and then a ReLU, $\\max(0, \\cdot)$.\n"),
    ("{n}. **True or False:** batch size {n} always trains faster.\n",
     "## {n}\n**False.** Larger batches need fewer steps but each step costs more.\n"),
    ("{n}. Mark all the correct choices about optimiser {n}:\n    1. It uses momentum.\n"
     "    1. It needs no learning rate.\n    1. It updates every step.\n",
     "## {n}\nCorrect: 1, 3\n\nEvery optimiser needs a learning rate.\n"),
    ("{n}. A network with {n} layers trained by `[...]` uses gradients from $[...]$.\n",
     "## {n}\n1. SGD\n2. backpropagation\n\nBoth are standard.\n"),
    ("{n}. Consider the code:\n\n```python\nx = torch.zeros({n}, 3)\ny = x @ x.T\n```\n\n"
     "    1. What is the shape of `y`?\n    2. Why is it square?\n",
     "## {n}.1\n$({n}, {n})$.\n\n## {n}.2\nA matrix times its transpose is square.\n"),
]


def write(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "answers").mkdir(exist_ok=True)
    questions, answers = ["# Synthetic bank\n"], ["# Answers\n"]
    for n in range(1, count + 1):
        if n % 100 == 1:
            questions.append(f"\n## Section {n // 100 + 1}\n")
        q, a = KINDS[n % len(KINDS)]
        questions.append(("\n---\n\n" if n % 100 != 1 else "\n") + q.format(n=n))
        answers.append("\n" + a.format(n=n))
    (root / "bank.md").write_text("".join(questions))
    (root / "answers" / "answers.md").write_text("".join(answers))
    (root / "deckgen.toml").write_text(f'name = "Synthetic {count}"\nsources = ["bank.md"]\n'
                                       'answers = ["answers/*.md"]\n')


if __name__ == "__main__":
    write(Path(sys.argv[1]), int(sys.argv[2]))
