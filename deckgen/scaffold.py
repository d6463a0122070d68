"""``deckgen new``: a small bank that builds as it is, one question of each kind."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from deckgen.config import CONFIG_NAME, readable
from deckgen.errors import DeckgenError

QUESTIONS_NAME = "questions.md"
ANSWERS_NAME = "answers/answers.md"


class ScaffoldError(DeckgenError):
    """The new bank cannot be created where asked."""


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    escaped = []
    for c in text:
        if c in '"\\':
            escaped.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            escaped.append(f"\\u{ord(c):04x}")
        else:
            escaped.append(c)
    return '"' + "".join(escaped) + '"'


def files(name: str) -> dict[str, str]:
    """The new bank's files: path relative to the bank -> text."""
    config = f"""\
# Settings of this bank; paths are relative to this file. Command-line flags override them.
name = {_toml_string(name)}
sources = ["{QUESTIONS_NAME}"]
answers = ["answers/*.md"]
# formats = ["apkg", "json", "pdf"]
# out = "build"
# style = "auto"  # how questions are written: auto, numbered, heading, bold, labelled
"""
    questions = f"""\
# {name}

## Basics

1. What does the learning rate control in gradient descent?

---

2. **True or False:** A model that fits its training data perfectly always generalises well.

---

3. Mark all the correct choices:
    1. ReLU is an activation function.
    1. Dropout is an activation function.
    1. The sigmoid is an activation function.

---

4. Gradient descent moves the parameters in the direction of the negative [...] of the loss.

---

## Computing

5. A classifier's results on a test set are counted below.

```python
tp, fp, fn, tn = 6, 1, 2, 11
```

1. What is its precision?
2. What is its recall?
"""
    answers = """\
# Answers

One `## N` heading per question, `## N.P` per part of a question. A `{python}` code block
runs when the deck is built, and what it prints is shown on the card.

## 1
The size of each step: every update moves the parameters by the learning rate times the
gradient. Too large and training diverges; too small and it crawls.

## 2
**False.** A perfect fit to the training data often means the model has memorised its noise
(overfitting); only data held out from training shows how well it generalises.

## 3
Correct: 1, 3

Dropout is a regularisation technique: it switches units off at random while training.

## 4
1. gradient

The gradient points uphill, so a step against it lowers the loss.

## 5.1
Precision is $\\frac{TP}{TP + FP}$, computed from the counts in the question:

```{python}
#| echo: false
#| question-code: 1
print(f"precision = {tp} / ({tp} + {fp}) = {tp / (tp + fp):.3f}")
```

## 5.2
Recall is $\\frac{TP}{TP + FN} = \\frac{6}{6 + 2} = 0.75$: the share of the actual positives
that the classifier found.
"""
    readme = f"""\
# {name}

A question bank for deckgen: questions in
`{QUESTIONS_NAME}`, their answers in `{ANSWERS_NAME}`, settings in `{CONFIG_NAME}`.

From this folder, check the bank, then build the deck:

```sh
deckgen check
deckgen build
```

The build writes the Anki package (`build/*.apkg`, import it with Anki's *File > Import*),
printable cards (`build/*-cards.pdf`) and a JSON card list (`build/*.json`). Keep
`deckgen.lock` with the bank: it keeps each card's identity, and its review history in Anki,
across edits.
"""
    return {CONFIG_NAME: config, QUESTIONS_NAME: questions, ANSWERS_NAME: answers,
            "README.md": readme}


def create(dest: Path, name: str | None = None) -> list[Path]:
    """Write a new bank into ``dest`` (which must not exist or be empty); returns its files.

    Every file is written into a temporary directory first, then moved into place: a new
    ``dest`` is that directory renamed, so a failure leaves no half-written bank. Nothing
    that exists is ever overwritten.
    """
    if dest.exists() and not dest.is_dir():
        raise ScaffoldError(f"'{dest}' exists and is not a directory", None, "new-exists")
    if dest.is_dir() and any(dest.iterdir()):
        raise ScaffoldError(f"'{dest}' is not empty: give a new or empty directory", None,
                            "new-exists")
    target = dest.resolve()
    bank = files((name or "").strip() or readable(target.name))
    existed = target.is_dir()
    # inside an existing (empty) directory, which may be a mount point; else beside it
    staging = target / f".deckgen-new-{secrets.token_hex(4)}" if existed else \
        target.parent / f".{target.name}.deckgen-new-{secrets.token_hex(4)}"
    moved: list[Path] = []
    try:
        staging.mkdir(parents=True)
        for relative, text in bank.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if not existed:
            os.rename(staging, target)  # fails if target appeared in the meantime
        else:
            for entry in sorted(staging.iterdir()):
                if os.path.lexists(target / entry.name):
                    raise ScaffoldError(f"'{dest}' is not empty: give a new or empty directory",
                                        None, "new-exists")
                os.rename(entry, target / entry.name)
                moved.append(target / entry.name)
    except (OSError, ScaffoldError) as exc:
        for path in moved:  # an existing directory gets the whole bank or nothing
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if isinstance(exc, ScaffoldError):
            raise
        if target.exists() and not existed:
            raise ScaffoldError(f"'{dest}' appeared while the bank was written; nothing was "
                                "changed in it", None, "new-exists") from exc
        raise ScaffoldError(f"cannot create '{dest}': {exc.strerror or exc}", None,
                            "new-failed") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the rename succeeded
    return [dest / relative for relative in bank]
