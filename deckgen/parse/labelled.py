"""The labelled style: ``Q:`` and ``A:`` lines (also ``Question:``/``Answer:``, ``Q1:``/``A1:``,
and bold labels such as ``**Q:**``).

The question runs from its ``Q:`` line to the ``A:`` line; the answer from there to the next
``Q:`` line or heading. Read line by line (outside code fences), because a ``Q:`` line and its
``A:`` line usually form one Markdown paragraph. Headings are sections (an ``#`` heading only
when the file has more than one).
"""

from __future__ import annotations

import re

from markdown_it.tree import SyntaxTreeNode

from deckgen.model import Answer
from deckgen.parse.labels import A_LINE, Q_LINE, unbold
from deckgen.parse.reader import QuestionDraft, Reader, finished, is_nav_text
from deckgen.parse.repairs import FENCE

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


class LabelledReader(Reader):
    style = "labelled"

    def read(self, root: SyntaxTreeNode) -> tuple[list[QuestionDraft], list[str]]:
        lines = self.lines
        kinds: list[str] = []  # per line: "q", "a", "h" (heading), "" (other)
        in_fence = False
        for line in lines:
            if FENCE.match(line):
                in_fence = not in_fence
                kinds.append("")
            elif in_fence:
                kinds.append("")
            elif Q_LINE.match(line):
                kinds.append("q")
            elif A_LINE.match(line):
                kinds.append("a")
            elif _HEADING.match(line):
                kinds.append("h")
            else:
                kinds.append("")
        h1_sections = sum(1 for i, k in enumerate(kinds)
                          if k == "h" and lines[i].lstrip().startswith("# ")) > 1
        questions: list[QuestionDraft] = []
        section = ""
        i = 0
        while i < len(lines):
            kind = kinds[i]
            if kind == "h":
                m = _HEADING.match(lines[i])
                assert m is not None
                if len(m.group(1)) > 1 or h1_sections:
                    section = m.group(2)
                i += 1
                continue
            if kind == "a":
                # an answer line with no Q: line before it: the paragraph above is the question
                bottom = i
                while bottom > 0 and not lines[bottom - 1].strip():
                    bottom -= 1
                top = bottom
                while top > 0 and kinds[top - 1] == "" and lines[top - 1].strip():
                    top -= 1
                if top < bottom and kinds[bottom - 1] == "":
                    self._cut_previous(questions, top)
                    text = "\n".join(line.strip() for line in lines[top:bottom])
                    q = QuestionDraft(-1, section, self.loc(top), head=unbold(text))
                    end = self._answer_end(kinds, i)
                    q.answer = self._answer(i, end)
                    q.answer_end = end
                    questions.append(q)
                    i = end
                    continue
            if kind != "q":
                i += 1
                continue
            qm = Q_LINE.match(lines[i])
            assert qm is not None
            j = i + 1
            while j < len(lines) and kinds[j] == "" and lines[j].strip():
                j += 1  # the question's text goes on until a blank line or a label
            k = j
            while k < len(lines) and kinds[k] == "":
                k += 1  # blank lines and stray text up to the next label
            text = "\n".join([unbold(qm.group(2))] + [line.strip() for line in lines[i + 1:j]])
            q = QuestionDraft(int(qm.group(1)) if qm.group(1) else -1, section, self.loc(i),
                              head=text.strip())
            if k < len(lines) and kinds[k] == "a":
                end = self._answer_end(kinds, k)
                q.answer = self._answer(k, end)
                q.answer_end = end
                i = end
            else:
                i = k
            questions.append(q)
        return finished(questions)

    @staticmethod
    def _answer_end(kinds: list[str], start: int) -> int:
        end = start + 1
        while end < len(kinds) and kinds[end] not in ("q", "h", "a"):
            end += 1
        return end

    def _cut_previous(self, questions: list[QuestionDraft], top: int) -> None:
        """The previous answer ran into the paragraph that turned out to be the next question
        (``Answer:`` lines without ``Question:`` lines): end it before that paragraph."""
        prev = questions[-1] if questions else None
        if prev is None or prev.answer is None:
            return
        start = prev.answer.loc.line  # a file line; find its index
        index = next((i for i in range(len(self.lines)) if self.norm.line(i) >= start), 0)
        prev.answer = self._answer(index, top)
        prev.answer_end = top

    def _answer(self, start: int, end: int) -> Answer | None:
        """The answer from its ``A:`` line (label dropped) to ``end``, navigation blanked."""
        am = A_LINE.match(self.lines[start])
        assert am is not None
        first = unbold(am.group(2)) if am.group(2).strip() else ""
        body = [first] + ["" if is_nav_text(line) else line for line in self.lines[start + 1:end]]
        markdown = "\n".join(body).strip("\n")
        if not markdown.strip():
            return None
        return Answer(markdown, self.loc(start))
