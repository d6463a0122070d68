"""The bold style: a paragraph that is wholly bold and reads as a question is a question.

``**What is overfitting?**``, maybe followed by an emoji or a difficulty mark (``⭐``, ``(easy)``),
or ``**Q3. ...**``. Its answer is everything after it up to the next such paragraph or any
heading; a bold first line with the answer on the next lines of the same paragraph works too.
Bold words inside a sentence are never questions. Headings are sections (an ``#`` heading only
when the file has more than one).
"""

from __future__ import annotations

import re

from markdown_it.tree import SyntaxTreeNode

from deckgen.parse.labels import question_label, question_like
from deckgen.parse.reader import QuestionDraft, Reader, finished, h1_sections, inline_text

# **text** or __text__, then nothing but marks: emoji, stars, "(easy)", "[Medium]"
_BOLD = re.compile(r"^\s*(?:[-*+]\s+)?(\*\*|__)(?P<text>(?:(?!\1).)+?)\1"
                   r"(?P<tail>.*)$", re.DOTALL)
_MARK = re.compile(r"^[\W_]*$|^\s*[(\[][\w\s/+-]{1,20}[)\]][\W_]*$")


_HTML_BOLD = re.compile(r"<(b|strong)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"(<br\s*/?>\s*)+$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(\d{1,6})\s*[.):]\s*(.*)$", re.DOTALL)  # "**Q3:**" is labelled style


def bold_question(text: str, whole: bool = True) -> tuple[int | None, str] | None:
    """(number, question text) if ``text`` is one bold span that reads as a question, or a
    bold label followed by the question (``**3)** The number of active ads.``)."""
    text = _BREAKS.sub("", _HTML_BOLD.sub(lambda m: f"**{m.group(2)}**", text.strip()))
    m = _BOLD.match(text)
    if not m:
        return None
    inner = " ".join(m.group("text").split())
    tail = " ".join(m.group("tail").split())
    if tail and not _MARK.match(tail):
        if not whole:
            return None
        # "**3)** The number of active ads." or "**1) FizzBuzz.** Print the numbers ...":
        # a bold number (and title) that opens the question's paragraph
        numbered = _NUMBERED.match(inner)
        if numbered:
            title = numbered.group(2).strip()
            glue = "" if not title or tail[0] in ".,:;!?" else " "
            return int(numbered.group(1)), (title + glue + tail).strip()
        return None
    if not _MARK.match(m.group("tail")):
        return None
    label = question_label(inner, headings=True)
    if label is not None and label[1]:
        return label
    return (None, inner) if question_like(inner) else None


class BoldReader(Reader):
    style = "bold"

    def question_at(self, node: SyntaxTreeNode) -> tuple[int | None, str, int] | None:
        """(number, text, lines the question takes) if this paragraph starts a question."""
        if node.type != "paragraph" or not node.map:
            return None
        lines = self.lines[node.map[0]:node.map[1]]
        if len(lines) > 1:
            found = bold_question(lines[0], whole=False)
            if found is not None:
                return found[0], found[1], 1  # the answer starts on the paragraph's next line
        found = bold_question(" ".join(line.strip() for line in lines))
        if found is not None:
            return found[0], found[1], len(lines)
        return None

    def read(self, root: SyntaxTreeNode) -> tuple[list[QuestionDraft], list[str]]:
        nodes = self.content_nodes(root)
        h1_titles_are_sections = h1_sections(nodes)
        questions: list[QuestionDraft] = []
        section = ""
        current: QuestionDraft | None = None
        body: list[SyntaxTreeNode] = []
        skip = 0

        def flush() -> None:
            nonlocal current
            if current is not None:
                self.fill_headed(current, body, skip_lines=skip)
                questions.append(current)
            current = None
            body.clear()

        for node in nodes:
            found = self.question_at(node)
            if found is not None:
                flush()
                number, text, used = found
                current = QuestionDraft(number or -1, section, self.loc(node), head=text)
                assert node.map is not None
                skip = used
                if used < node.map[1] - node.map[0]:
                    body.append(node)  # the rest of the paragraph opens the answer
                else:
                    skip = 0
            elif node.type == "heading":
                flush()
                if node.tag != "h1" or h1_titles_are_sections:
                    section = inline_text(node)
            elif current is not None:
                body.append(node)
            else:
                self.unattributed(node)
        flush()
        return finished(questions)
