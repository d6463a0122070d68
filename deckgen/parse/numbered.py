"""The numbered style (the default bank's): top-level ``N.`` items are questions.

- ``##``/``###`` headings start sections; any heading or ``---`` rule ends a question.
- In each block between such boundaries, the first top-level numbered list holds questions
  (each item one question, its number as written). What follows belongs to the last question,
  except a later top-level numbered list whose first number is greater than that question's:
  it starts new questions, even with a code block, paragraph or formula (and no ``---``)
  before it. One exception keeps parts together: when the question already has parts and the
  list's number is the next part's (``1.`` ... ``2.`` after part 1), it is that next part.
- Inside a question, a numbered list is its parts, options or content (see reader.py), and a
  ``<details>`` block right after a question or part is its answer.
- ``### Q: ...`` headings are questions too (as in the heading style), so a numbered bank may
  mix in a few.
"""

from __future__ import annotations

import textwrap

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Severity
from deckgen.parse.labels import question_label
from deckgen.model import Answer
from deckgen.parse.reader import (DETAILS_OPEN, Item, QuestionDraft, Reader, closes_details,
                                  dedent, finished, inline_text, is_nav_text)


class NumberedReader(Reader):
    style = "numbered"

    def read(self, root: SyntaxTreeNode) -> tuple[list[QuestionDraft], list[str]]:
        questions: list[QuestionDraft] = []
        section = ""
        block: list[SyntaxTreeNode] = []
        q_heading: QuestionDraft | None = None
        after_rule = False  # the block began at a --- rule, not at a heading

        def flush() -> None:
            nonlocal q_heading
            if q_heading is not None:
                self.fill_headed(q_heading, block)
                questions.append(q_heading)
                q_heading = None
            else:
                questions.extend(self._read_block(block, section, after_rule))
            block.clear()

        for node in self.content_nodes(root):
            if node.type == "heading":
                flush()
                after_rule = False
                title = inline_text(node)
                label = question_label(title, headings=False)
                if label is not None and title.lstrip().upper().startswith("Q"):
                    number, text = label
                    q_heading = QuestionDraft(number or -1, section, self.loc(node), head=text)
                elif node.tag in ("h2", "h3"):
                    section = title
            elif node.type == "hr":
                flush()
                after_rule = True
            else:
                block.append(node)
        flush()
        self._answers_in_items(questions)
        return finished(questions)

    def _answers_in_items(self, questions: list[QuestionDraft]) -> None:
        """``1. What is a Pod?`` with the answer on the item's next lines, as many hand-written
        banks do: when most questions of the file have that shape (a first line that ends
        with ``?``, then lines that ask nothing), the rest of each such item is its answer.
        Banks that keep the question's data under it (the default bank) do not have it."""
        shaped = [q for q in questions if self._inline_answer_shape(q)]
        if len(shaped) < 3 or len(shaped) * 5 < len(questions) * 3:
            return
        for q in shaped:
            assert q.item is not None and q.item.node.map is not None
            start, end = q.item.node.map
            first = self.lines[start][q.item.col:].strip()
            body = dedent("\n".join(self.lines[start + 1:end]), q.item.col)
            lines = ["" if is_nav_text(line) else line for line in body.split("\n")]
            skip = next((i for i, line in enumerate(lines) if line.strip()), 0)
            q.head, q.stem = first, []
            q.answer = Answer(textwrap.dedent("\n".join(lines[skip:])).strip("\n"),
                              self.loc(start + 1 + skip))

    def _inline_answer_shape(self, q: QuestionDraft) -> bool:
        if q.item is None or q.parts or q.choices or q.answer or not q.item.node.map:
            return False
        start, end = q.item.node.map
        first = self.lines[start][q.item.col:].strip()
        rest = [line for line in self.lines[start + 1:end] if line.strip()]
        stem_nodes = {id(n) for n, _ in q.stem}
        own = {id(c) for c in q.item.node.children}
        return first.endswith("?") and bool(rest) and stem_nodes <= own and \
            not any("?" in line or line.lstrip().startswith(("```", "<", "~~~", "|"))
                    for line in rest)

    def _read_block(self, nodes: list[SyntaxTreeNode], section: str,
                    after_rule: bool = False) -> list[QuestionDraft]:
        first = next((i for i, n in enumerate(nodes) if n.type == "ordered_list"), None)
        # Text after a heading and before the first question introduces the section; between
        # two --- rules it belongs to no question, which is worth a word to the author.
        stray = nodes[:first] if first is not None else nodes
        for node in stray:
            details = node.type == "html_block" and DETAILS_OPEN.match(node.content or "")
            comment = node.type == "html_block" and (node.content or "").lstrip().startswith(
                "<!--")
            if details or (after_rule and not comment):
                what = "an answer (<details>)" if details else "this text"
                self.diagnostics.append(Diagnostic(
                    self.loc(node), f"{what} belongs to no question: no numbered question "
                    "precedes it since the last --- or heading", "unattributed",
                    Severity.WARNING))
                break
        out: list[QuestionDraft] = []
        pending: list = nodes[first:] if first is not None else []
        while pending:  # each round: one question list and what follows it
            pending = self._read_list(pending, section, out)
        return out

    def _read_list(self, nodes: list, section: str, out: list[QuestionDraft]) -> list:
        """Read the question list ``nodes[0]`` and what follows it into ``out``; returns the
        nodes from a later list that starts new questions, or []."""
        qlist = nodes[0]
        start = int(qlist.attrs.get("start", 1))
        rest: list[SyntaxTreeNode | list[SyntaxTreeNode]] = []
        before = len(out)
        # "1. 1. 1." (Markdown numbers the items itself): the questions count up by position;
        # two items ("1. Stem" then "1. part") are a question and its part, as in the seed
        lazy = len(qlist.children) > 2 and len({i.info for i in qlist.children}) == 1
        for offset, item in enumerate(qlist.children):
            number = int(item.info) if (item.info or "").isdigit() and not lazy else \
                start + offset
            if len(out) > before and number > out[-1].number and rest:
                # "6. ...\n\n1. ...\n\n7. ..." is one CommonMark list too: 7 starts a new
                # question unless it is the next part of question 6
                last = out[-1]
                self._read_question(last, [(rest, 0)])
                rest = []
                if last.parts and len(last.parts) + 1 == number:
                    rest.append(item)
                    continue
            elif len(out) > before and (rest or number <= out[-1].number):
                # "35. ...\n\n1. ..." is one CommonMark list; from the first item that does
                # not count up, the items are the last question's parts or options.
                rest.append(item)
                continue
            own = Item(item, self.item_col(item, 0))
            q = QuestionDraft(number, section, self.loc(item), item=own)
            self._read_question(q, [(c, own.col) for c in item.children])
            out.append(q)
        following: list = ([rest] if rest else []) + list(nodes[1:])
        q = out[-1]
        segment: list = []
        open_details = False
        for index, node in enumerate(following):
            if isinstance(node, list):
                pass
            elif node.type == "html_block" and DETAILS_OPEN.match(node.content or ""):
                open_details = not closes_details(node)
            elif node.type == "html_block" and closes_details(node):
                open_details = False
            elif node.type == "ordered_list" and not open_details and \
                    int(node.attrs.get("start", 1)) > q.number:
                self._read_question(q, [(n, 0) for n in segment])
                segment = []
                if not (q.parts and len(q.parts) + 1 == int(node.attrs.get("start", 1))):
                    return following[index:]  # it continues the numbering: new questions
            segment.append(node)
        self._read_question(q, [(n, 0) for n in segment])
        return []

