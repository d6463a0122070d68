"""Question labels shared by the heading, bold and labelled styles: ``Q3:``, ``12.``, ``1)``,
``Question 3:``, and what counts as question-like text without a label."""

from __future__ import annotations

import re

from deckgen.parse.kinds import BLANK, TRUE_FALSE

# "Q:", "Q3:", "Q3.", "Q 3)", "Q3 -", "Question 3:", "Question:", "Ques. 3:", "Q3 What ..."
_Q_LABEL = re.compile(
    r"^(?:Q|Ques(?:tion)?\.?)\s*(?:#|No\.?\s*)?(\d{1,6})?\s*(?:[:.)\]]|\s[-–—]|(?<=\d)\s)\s*(.*)$",
    re.IGNORECASE | re.DOTALL)
# "12. text", "1) text", "12 - text", "#12: text"
_NUMBER_LABEL = re.compile(r"^#?(\d{1,6})\s*(?:[.):]|\s[-–—])\s*(\S.*)$", re.DOTALL)
# "1.1 - text", "2.3. text": numbered within a chapter; such questions take free numbers
_OUTLINE_LABEL = re.compile(r"^(\d{1,6}(?:\.\d{1,6})+)\.?\s*(?:[.):]|[-–—])?\s+(\S.*)$", re.DOTALL)
_EMPHASIS = re.compile(r"^([*_]{1,3})(.*?)\1(?=\s|$)", re.DOTALL)
_LEAD = re.compile(r"^[\W_]*?(?=[\w`$\[(\"'])", re.DOTALL)  # emoji, bullets before the text
_PROMPT_START = re.compile(
    r"^\W*(what|which|why|how|when|where|who|whom|whose|is|are|was|were|do|does|did|can|could"
    r"|should|would|will|explain|describe|define|name|list|compare|contrast|compute|calculate"
    r"|find|write|implement|derive|prove|show|give|state|discuss|outline|summari[sz]e"
    r"|differentiate|distinguish|tell|mention|elaborate|illustrate)\b", re.IGNORECASE)


# "Q:", "Question 3:", "**Q:**" / "A:", "Answer:", "**Answer:**" at the start of a line
_OPT_BOLD = r"(?:\*\*|__)?"
Q_LINE = re.compile(r"^\s{0,3}(?:[-*+]\s+|>\s*)?" + _OPT_BOLD +
                    r"(?:Q|Question)\s*(\d{1,6})?\s*[:.)]" + _OPT_BOLD + r"\s*(.*)$",
                    re.IGNORECASE)
A_LINE = re.compile(r"^\s{0,3}(?:[-*+]\s+|>\s*)?" + _OPT_BOLD +
                    r"(?:A|Ans|Answer)\s*(\d{1,6})?\s*[:.)]" + _OPT_BOLD + r"\s*(.*)$",
                    re.IGNORECASE)


def unbold(text: str) -> str:
    """A label's text without a bold marker left unclosed by the label's removal."""
    text = text.strip()
    if text.endswith(("**", "__")) and text.count(text[-2:]) % 2 == 1:
        text = text[:-2].rstrip()
    return text


def clean_title(text: str) -> str:
    """A heading or bold line without the emphasis around its label: ``**Q1:** What`` ->
    ``Q1: What``; leading emoji and bullets dropped."""
    text = text.strip()
    m = _EMPHASIS.match(text)
    if m and m.group(2) and len(m.group(2)) < 24:
        text = (m.group(2) + " " + text[m.end():]).strip()
    m = _LEAD.match(text)
    if m:
        text = text[m.end():]
    return text


def question_label(title: str, headings: bool = True) -> tuple[int | None, str] | None:
    """(number or None, question text) if ``title`` is labelled as a question, else None.

    With ``headings``, a bare number (``12. text``, ``1) text``) counts as a label too.
    """
    text = clean_title(title)
    m = _Q_LABEL.match(text)
    if m and (m.group(2) or m.group(1)):
        rest = clean_title(m.group(2))
        return (int(m.group(1)) if m.group(1) else None), rest.strip()
    if headings:
        m = _OUTLINE_LABEL.match(text)
        if m:
            return None, clean_title(m.group(2)).strip()
        m = _NUMBER_LABEL.match(text)
        if m:
            return int(m.group(1)), clean_title(m.group(2)).strip()
    return None


def bare_number(title: str) -> bool:
    """Is the title labelled only by a number (``12. text``), not by ``Q``, ``Question``?"""
    text = clean_title(title)
    return not _Q_LABEL.match(text) and bool(_NUMBER_LABEL.match(text) or
                                             _OUTLINE_LABEL.match(text))


def question_like(text: str) -> bool:
    """Unlabelled text that reads as a question: a ``?``, a blank, True/False, or a sentence
    that opens with an interrogative or a prompt (*explain*, *compare*, ...)."""
    text = text.strip()
    return bool(text) and bool("?" in text or BLANK.search(text) or TRUE_FALSE.match(text)
                               or _PROMPT_START.match(text))
