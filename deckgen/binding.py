"""Answers bound to their questions' identities, not to their numbers.

An answers file keys each answer by a heading (``## 12`` or ``## 12.2``). The lock file
remembers, per note, the heading its answer came from and a hash of that answer. So when the
question file is renumbered and the answers file is not, every answer still finds its note;
when both are renumbered by hand, the answer's unchanged text finds it. For each heading, in
this order:

1. the note whose last answer had exactly this text (when only one note had it);
2. the note this heading was bound to at the last build: unless that note is gone, or the
   evidence disagrees (the note now has another number while the question at this number is
   another note): then the way the other answers moved decides (the answers file was left as
   it was, or renumbered along with the questions), and with no such evidence the build stops
   with an error naming both places, rather than guess;
3. for a heading never seen before, the question or part that has this number now.

An answer whose note was deleted is reported where it is written and attached nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from deckgen.errors import Diagnostic, Severity
from deckgen.identity import Entry, Identities, answer_hash, part_text
from deckgen.model import Answer, Bank, Part, Question

SETUP = "setup"


@dataclass
class Bound:
    bank: Bank
    diagnostics: list[Diagnostic] = field(default_factory=list)
    answer_keys: dict[str, str] = field(default_factory=dict)
    """GUID -> the heading its answer came from."""
    ambiguous: dict[str, Answer] = field(default_factory=dict)
    """Headings left unattached because the evidence did not decide (``deckgen accept``
    can bind them to the question that has their number now)."""


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def bind(bank: Bank, answers: dict[str, Answer], identities: Identities,
         file: str) -> Bound:
    """Attach a question file's answers (``setup`` excluded) to its parts."""
    current: dict[str, str] = {}  # key -> guid, as the bank is now
    where: dict[str, tuple[Question, Part]] = {}
    for q in bank.questions:
        for p in q.parts:
            guid = identities.guids.get((bank.path, q.key(p)))
            if guid:
                current[q.key(p)] = guid
                where[guid] = (q, p)
    entries = [e for e in identities.lock.entries if e.file == file]
    by_guid = {e.guid: e for e in entries}
    by_hash: dict[str, list[str]] = {}
    by_heading: dict[str, Entry] = {}
    for e in entries:
        if e.answer:
            by_hash.setdefault(e.answer, []).append(e.guid)
        if e.answer_key and (e.answer_key not in by_heading or e.guid in where):
            by_heading[e.answer_key] = e

    owners: dict[str, tuple[str, Answer]] = {}  # guid -> (heading, answer)
    diags: list[Diagnostic] = []
    unresolved: list[tuple[str, Answer, Entry]] = []
    untouched = renumbered = 0  # how the answers that kept their text moved
    for key, answer in answers.items():
        if key == SETUP:
            continue
        same = [g for g in by_hash.get(answer_hash(answer.markdown), []) if g in where]
        if len(same) == 1:
            owner = same[0]
            before = by_guid[owner].answer_key
            if before and before != key:
                renumbered += 1
            elif before:
                untouched += 1
            _claim(owners, owner, key, answer, where, diags)
            continue
        last = by_heading.get(key)
        if last is None:  # a new heading: the question that has this number now
            if key in current:
                _claim(owners, current[key], key, answer, where, diags)
            else:
                diags.append(Diagnostic(answer.loc, f"answer {key} matches no question or "
                                        f"part of {bank.path} (see `deckgen list`)",
                                        "unknown-answer-key"))
            continue
        if last.guid in where and current.get(key) in (None, last.guid):
            _claim(owners, last.guid, key, answer, where, diags)
            continue
        unresolved.append((key, answer, last))

    ambiguous: dict[str, Answer] = {}
    for key, answer, last in unresolved:
        now = current.get(key)
        if last.guid not in where:
            if now is not None and now not in owners:
                q, p = where[now]
                ambiguous[key] = answer
                diags.append(Diagnostic(
                    answer.loc, f"answer {key} was written for a question that is no longer in "
                    f"the bank ('{_short(last.text)}'), and {key} is now another question "
                    f"({p.loc}: '{_short(_first_words(q, p))}'): if the answer fits it, run "
                    f"`deckgen accept {key}`; otherwise rewrite or delete the answer",
                    "answer-ambiguous"))
            else:
                diags.append(Diagnostic(
                    answer.loc, f"answer {key} belongs to a question that was deleted "
                    f"('{_short(last.text)}'); it is not attached to any card (delete it, or "
                    "move it to another question's heading)", "orphan-answer",
                    Severity.WARNING))
            continue
        # the note it was bound to is still here, under another number, and this number
        # holds another note: did the answers file stay as it was, or was it renumbered too?
        if untouched > renumbered:
            _claim(owners, last.guid, key, answer, where, diags)
        elif renumbered > untouched and now is not None:
            _claim(owners, now, key, answer, where, diags)
        else:
            q_then, p_then = where[last.guid]
            q_now, p_now = where[now] if now else (q_then, p_then)
            if now:
                ambiguous[key] = answer
            diags.append(Diagnostic(
                answer.loc, f"answer {key} (edited since the last build) could be for the "
                f"question it answered before, now {q_then.key(p_then)} at {p_then.loc}, or "
                f"for the question numbered {key} now, at {p_now.loc}; rename its heading to "
                "the key it belongs to, or run `deckgen accept " + key + "` if it answers the "
                "question numbered " + key + " now", "answer-ambiguous"))

    questions = []
    answer_keys: dict[str, str] = {}
    for q in bank.questions:
        parts = []
        for p in q.parts:
            guid = current.get(q.key(p), "")
            got = owners.get(guid)
            if got is not None:
                heading, answer = got
                answer_keys[guid] = heading
                if p.answer is not None:
                    diags.append(Diagnostic(answer.loc, f"{q.key(p)} already has a <details> "
                                            f"answer at {p.answer.loc}", "duplicate-answer"))
                else:
                    p = replace(p, answer=answer)
            parts.append(p)
        questions.append(replace(q, parts=tuple(parts)))
    return Bound(replace(bank, questions=tuple(questions)), diags, answer_keys, ambiguous)


def _claim(owners: dict[str, tuple[str, Answer]], guid: str, key: str, answer: Answer,
           where: dict[str, tuple[Question, Part]], diags: list[Diagnostic]) -> None:
    if guid in owners:
        other_key, other = owners[guid]
        q, p = where[guid]
        diags.append(Diagnostic(answer.loc, f"answers {other_key} ({other.loc}) and {key} are "
                                f"both for {q.key(p)} ({p.loc}); keep one",
                                "duplicate-answer"))
        return
    owners[guid] = (key, answer)


def _first_words(q: Question, p: Part) -> str:
    stem, own = part_text(q, p)
    return own or stem
