"""The heading style: each question is a heading.

``### Q: text``, ``### Q3: text``, ``#### 1) text``, ``### 12. text``, ``## Question 3: text``,
or any heading that ends with a ``?``. Its key is the number in the heading, or the next free
number. The answer is what follows, up to the next question heading or a heading of the same
or a higher level (deeper headings belong to the answer), or the ``<details>`` block after it:
then the text between the heading and the block is part of the question, and numbered parts,
each with its own ``<details>``, are read as in the numbered style. Other headings are
sections (an ``#`` heading only when the file has more than one).
"""

from __future__ import annotations

import re
from collections import Counter

from markdown_it.tree import SyntaxTreeNode

from deckgen.parse.labels import (A_LINE, bare_number, clean_title, question_label,
                                  question_like, unbold)
from deckgen.parse.reader import QuestionDraft, Reader, finished, h1_sections, inline_text

_ENDS_WITH_QUESTION = re.compile(r"\?[\W_]*$")


def heading_question(title: str) -> tuple[int | None, str] | None:
    """(number, text) if a heading's title is a question, else None."""
    title = re.sub(r"\s+#+\s*$", "", title)  # "### Q1: text ###"
    label = question_label(title, headings=True)
    if label is not None and label[1]:
        return label
    if _ENDS_WITH_QUESTION.search(title):
        return None, label[1] if label else title.strip()
    return None


def numbered_only(title: str) -> bool:
    """A heading that is a question only by its number (``## 1. The big picture``)."""
    return bare_number(title) and not _ENDS_WITH_QUESTION.search(title) and \
        not question_like(clean_title(title))


class HeadingReader(Reader):
    style = "heading"

    def _only_label(self, body: list[SyntaxTreeNode]) -> bool:
        """Is the question's body so far just an empty ``Answer:`` label?"""
        if len(body) != 1 or body[0].type != "paragraph" or not body[0].map:
            return False
        m = A_LINE.match(" ".join(self.lines[body[0].map[0]:body[0].map[1]]).strip())
        return m is not None and not unbold(m.group(2)).strip(" *_")

    def read(self, root: SyntaxTreeNode) -> tuple[list[QuestionDraft], list[str]]:
        nodes = self.content_nodes(root)
        levels = Counter(int(n.tag[1]) for n in nodes if n.type == "heading" and
                         heading_question(inline_text(n)) is not None)
        # the level most questions sit at; a question-like heading deeper than the current
        # question ("#### 1. Filter methods" under "## 15. ...") is a part of its answer
        usual = levels.most_common(1)[0][0] if levels else 0
        h1_titles_are_sections = h1_sections(nodes)
        questions: list[QuestionDraft] = []
        section = ""
        current: QuestionDraft | None = None
        level = 0
        body: list[SyntaxTreeNode] = []

        def flush() -> None:
            nonlocal current
            if current is not None:
                self.fill_headed(current, body)
                questions.append(current)
            current = None
            body.clear()

        for node in nodes:
            if node.type == "heading":
                depth = int(node.tag[1])
                title = inline_text(node)
                found = heading_question(title)
                if found is not None and current is not None and level < depth != usual:
                    found = None
                elif found is not None and depth != usual and numbered_only(title):
                    found = None  # "## 1. The Big Picture" above "### 1.1 - What is ...?"
                if found is not None:
                    flush()
                    current = QuestionDraft(found[0] or -1, section, self.loc(node),
                                            head=found[1])
                    level = depth
                    continue
                if current is not None and (depth > level or self._only_label(body)):
                    # a sub-heading of the answer, or the answer's title right under an
                    # "**Answer:**" label ("## 3. Is X ...?", "**Answer:**", "## X is ...")
                    body.append(node)
                    continue
                flush()
                if depth > 1 or h1_titles_are_sections:
                    section = title
            elif current is not None:
                body.append(node)
            else:
                self.unattributed(node)
        flush()
        return finished(questions)
