"""Parser rules, one small bank per rule or quirk."""

from __future__ import annotations

from deckgen.model import Figure, Kind, Text
from deckgen.parse import parse_text


def parse(md: str):
    questions, sections, diags = parse_text(md, "q.md")
    return questions, sections, diags


def text(blocks) -> str:
    return "\n".join(b.markdown for b in blocks if isinstance(b, Text))


def test_sections_questions_and_gaps():
    qs, sections, diags = parse("## A\n\n1. One?\n\n---\n\n3. Three?\n\n### B\n\n7. Seven?\n")
    assert [(q.number, q.section) for q in qs] == [(1, "A"), (3, "A"), (7, "B")]
    assert sections == ["A", "B"]
    assert diags == []


def test_table_of_contents_lists_are_not_questions():
    qs, _, _ = parse("## S\n\n- [a](#a)\n- b\n\n1. Real question?\n")
    assert [q.number for q in qs] == [1]


def test_nested_parts_and_locations():
    qs, _, _ = parse("1. Stem text:\n    1. Explain A.\n    2. Explain B.\n")
    q = qs[0]
    assert text(q.stem) == "Stem text:"
    assert [(p.label, text(p.body), p.loc.line) for p in q.parts] == [
        ("1", "Explain A.", 2), ("2", "Explain B.", 3)]


def test_items_indented_four_spaces_after_html_block():
    md = ("1. Look at this:\n<table><tr><td><img src=\"a.png\"></td></tr></table>\n"
          "    1. What is A?\n    2. What is B?\n")
    q = parse(md)[0][0]
    assert [text(p.body) for p in q.parts] == ["What is A?", "What is B?"]
    assert [p.loc.line for p in q.parts] == [3, 4]
    assert any(isinstance(b, Figure) for b in q.stem)


def test_items_indented_after_a_fence_become_parts():
    md = "1. Code:\n\n```python\nx = 1\n```\n    1. Why?\n    2. How?\n"
    q = parse(md)[0][0]
    assert len(q.parts) == 2
    assert q.code[0].code == "x = 1\n"


def test_sub_items_one_column_short_of_nesting():
    q = parse("13.  Given stride 1:\n    1. Define SAME\n    2. Define VALID\n")[0][0]
    assert [text(p.body) for p in q.parts] == ["Define SAME", "Define VALID"]


def test_part_after_paragraph_without_blank_line():
    md = ("1. Stem\n\n1. Compute a.\n\n```python\nw = 1\n```\nWhat is it?\n"
          "2. Compute b?\n")
    q = parse(md)[0][0]
    assert len(q.parts) == 2
    assert "What is it?" in text(q.parts[0].body)


def test_two_sub_questions_on_one_line():
    q = parse("1. Stem\n    1. Why? 2. Write it.\n")[0][0]
    assert [text(p.body) for p in q.parts] == ["Why?", "Write it."]


def test_list_continuing_the_question_list_is_its_parts():
    # "35." and "1." are one CommonMark list; items that do not count up are parts.
    q = parse("35. Stem?\n\n1. What is x?\n2. What is y?\n")[0]
    assert [x.number for x in q] == [35]
    assert len(q[0].parts) == 2


def test_true_false_and_choices():
    qs, _, _ = parse("1. **True or False:** x.\n\n---\n\n2. Mark all the correct choices:\n"
                     "    1. a\n    1. b\n\n---\n\n3. Choose one:\n\n1. x\n2. y\n")
    assert qs[0].parts[0].kind is Kind.TRUEFALSE
    assert qs[1].parts[0].kind is Kind.CHOICE
    assert [c.markdown for c in qs[1].parts[0].choices] == ["a", "b"]
    assert [c.number for c in qs[2].parts[0].choices] == [1, 2]


def test_blanks_in_text_math_and_code():
    q = parse("1. A [...] and $[...]$ and `[...]` and $x_[...]$.\n")[0][0]
    assert q.parts[0].kind is Kind.CLOZE
    assert q.parts[0].blanks == 4


def test_statements_are_not_parts():
    q = parse("1. He assumes:\n    1. Convolution is linear.\n    1. It is shift invariant.\n\n"
              "Is he right?\n")[0][0]
    assert len(q.parts) == 1
    assert "Convolution is linear." in text(q.stem)


def test_broken_code_kept_verbatim():
    code = "def f(:\n  return filter001 +\n"
    q = parse(f"1. Find the bug:\n\n```python\n{code}```\n")[0][0]
    assert q.code[0].code == code
    assert q.code[0].loc.line == 3


def test_figure_forms():
    md = ("1. Q?\n\n<table><tr><td><img src=\"img/a.png\" alt=\"A\"></td></tr>"
          "<tr><td> Fig 1: cap </td></tr></table>\n\n"
          "<img src=\"img/b.png\" alt=\"B\">\n\nSee ![C](img/c.png).\n")
    q = parse(md)[0][0]
    figs = [b for b in q.stem if isinstance(b, Figure)]
    assert [(f.src, f.alt, f.caption) for f in figs] == [
        ("img/a.png", "A", "Fig 1: cap"), ("img/b.png", "B", "")]
    assert "![C](img/c.png)" in text(q.stem)  # Markdown images stay inline in the text


def test_q_heading_with_details_answer():
    md = ("## Basics\n\n### Q: What is a tensor?\n\n<details><summary>Answer</summary>\n\n"
          "An n-dimensional **array**.\n\n</details>\n\n### Q: Why ReLU?\n"
          "<details>\n<summary>Answer</summary>\nCheap and non-saturating.\n</details>\n")
    qs, sections, diags = parse(md)
    assert diags == []
    assert [q.number for q in qs] == [1, 2]
    assert [q.section for q in qs] == ["Basics", "Basics"]
    assert text(qs[0].stem) == "What is a tensor?"
    assert qs[0].parts[0].answer.markdown.strip() == "An n-dimensional **array**."
    assert qs[1].parts[0].answer.markdown.strip() == "Cheap and non-saturating."


def test_details_after_a_numbered_part():
    md = ("1. Stem\n    1. Why?\n\n<details><summary>A</summary>\n\nBecause.\n\n</details>\n\n"
          "2. How?\n")
    q = parse(md)[0][0]
    assert q.parts[0].answer.markdown.strip() == "Because."
    assert q.parts[1].answer is None


def test_crlf_and_bom():
    qs, _, diags = parse("\ufeff## S\r\n\r\n1. What?\r\n    1. Why?\r\n    2. How?\r\n")
    assert diags == [] and len(qs[0].parts) == 2


def test_duplicate_numbers_and_empty_questions_are_reported():
    qs, _, diags = parse("1. A?\n\n---\n\n1. B?\n")
    assert [d.code for d in diags] == ["duplicate-question"]
    assert str(diags[0]).startswith("q.md:5: error: question number 1 is used twice")


def test_unclosed_details_is_reported_and_takes_only_its_block():
    md = "### Q: Why?\n\n<details><summary>A</summary>\nBecause.\n\nMore text.\n"
    qs, _, diags = parse(md)
    assert [d.code for d in diags] == ["unclosed-details"]
    assert qs[0].parts[0].answer.markdown.strip() == "Because."


def test_tab_in_list_indentation_does_not_hang():
    # once looped forever in the repairs: a space and a tab before a nested item
    qs, _, _ = parse("1.  What?\n \t1. Why?\n")
    assert [q.number for q in qs] == [1]
    qs, _, _ = parse("1.\tWhat?\n\t1. Why?\n\t2. How?\n\n```\n\tcode keeps its tab\n```\n")
    assert qs[0].code[0].code == "\tcode keeps its tab\n"


def test_question_continuing_the_numbering_after_code_is_a_new_question():
    md = "1. What does this print?\n\n```python\nprint(1)\n```\n\n2. Why?\n\n$$x$$\n\n3. How?\n"
    qs, _, _ = parse(md)
    assert [(q.number, len(q.parts)) for q in qs] == [(1, 1), (2, 1), (3, 1)]


def test_lazy_numbering_and_numbering_that_restarts_per_section():
    md = ("## A\n1. What is x?\n1. What is y?\n1. What is z?\n\n"
          "* ### B\n1. Why a?\n2. Why b?\n")
    qs, sections, diags = parse(md)
    assert diags == []
    assert sections == ["A", "B"]
    assert [(q.number, q.section, len(q.parts)) for q in qs] == [
        (1, "A", 1), (2, "A", 1), (3, "A", 1), (4, "B", 1), (5, "B", 1)]


def test_numbers_used_twice_in_one_section_are_still_reported():
    qs, _, diags = parse("## A\n\n1. What?\n\n---\n\n## B\n\n1. Why?\n\n---\n\n1. How?\n")
    assert [(d.code, d.loc.line) for d in diags] == [("duplicate-question", 9),
                                                     ("duplicate-question", 13)]
