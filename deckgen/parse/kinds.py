"""Kind detection shared by every question style: what a piece of question text asks for."""

from __future__ import annotations

import re

from deckgen.model import Choice, Kind

BLANK = re.compile(r"\[(?:\.\.\.|…)\]")
TRUE_FALSE = re.compile(r"^\W*true\s+or\s+false\b", re.IGNORECASE)
CHOICE_WORDING = re.compile(
    r"\b(mark\s+(all|the\s+correct)|choose|select|which\s+of\s+the\s+following|following\s+options"
    r"|correct\s+(choice|option)|which\s+ones)\b", re.IGNORECASE)
PROMPT = re.compile(
    r"\b(what|which|why|how|explain|describe|name|define|compute|calculate|find|write|implement"
    r"|plot|derive|complete|verify|confirm|identify|determine|elaborate|prove|print|evaluate"
    r"|state|provide|help|choose|mark|compare|repeat|discuss|show|list|annotate|draw|sketch"
    r"|estimate|interpret|justify|solve|simplify|analy[sz]e|classify|predict|outline"
    r"|summari[sz]e|illustrate)\b", re.IGNORECASE)


def asks(text: str) -> bool:
    """Does this text ask something (a question mark, a blank, True/False or a prompt verb)?"""
    return bool("?" in text or BLANK.search(text) or TRUE_FALSE.match(text)
                or PROMPT.search(text))


def kind_of(text: str, choices: tuple[Choice, ...]) -> Kind:
    if choices:
        return Kind.CHOICE
    if TRUE_FALSE.match(text):
        return Kind.TRUEFALSE
    if BLANK.search(text):
        return Kind.CLOZE
    return Kind.OPEN


def blanks(text: str) -> int:
    return len(BLANK.findall(text))
