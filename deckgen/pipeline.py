"""The build, in the order the data flows: read -> answers -> execute -> cards -> render.

Phase one gathers and validates everything and collects every diagnostic; only a clean phase
one reaches phase two, which writes each output atomically. A failed build writes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen import shapes
from deckgen.answers import attach, read_answers, scan_inline, unanswered
from deckgen.binding import bind
from deckgen.atomic import Staging, disk_error, disk_faults_reported, recover
from deckgen.config import Config, table_location
from deckgen.errors import BuildFailed, DeckgenError, Diagnostic, Location, Severity
from deckgen.identity import LOCK_NAME, Entry, Identities, Lock, assign, record_answers
from deckgen.model import Answer, Bank, Deck
from deckgen.render import FORMATS, Target, check_settings

Progress = Callable[[int, int, str], None]
"""Called after each question's cells ran: (done, total, label)."""


@dataclass
class Gathered:
    banks: list[Bank]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    identities: Identities | None = None
    ambiguous: dict[tuple[str, str], Answer] = field(default_factory=dict)
    """(bank path, key) -> an answer the build could not bind (see ``deckgen accept``)."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


def display_path(path: Path) -> str:
    """Paths in messages: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def gather(cfg: Config) -> Gathered:
    """Read every question and answers file and attach answers; never raises for bad input.

    Identities come first (from the questions and the lock file), so that answers can follow
    their questions' identities rather than their numbers (binding.py).
    """
    from deckgen.execute.runner import check_cells
    from deckgen.render.sanitize import unsafe_latex_in_bank
    from deckgen.parse import read_bank

    diags: list[Diagnostic] = []
    banks = []
    for path in cfg.sources:
        bank, problems = read_bank(path, display_path(path), cfg.style_for(path))
        diags.extend(problems)
        banks.append(replace(bank, root=str(cfg.root)))
    groups, problems = answers_files(cfg)
    diags.extend(problems)
    identities = None
    try:
        identities = assign(banks, Lock.read(cfg.root / LOCK_NAME), cfg.name)
        diags.extend(identities.diagnostics)
    except DeckgenError as exc:
        diags.append(exc.diagnostic)
    answer_keys: dict[str, str] = {}
    ambiguous: dict[tuple[str, str], Answer] = {}
    for i, (bank, path) in enumerate(zip(banks, cfg.sources)):
        answers = _read_answer_group(groups.get(path, []), diags)
        setup = answers.pop("setup", None)
        if identities is not None:
            bound = bind(bank, answers, identities, path.name)
            bank = bound.bank
            diags.extend(bound.diagnostics)
            answer_keys.update(bound.answer_keys)
            ambiguous.update(((bank.path, k), a) for k, a in bound.ambiguous.items())
        else:  # the lock is unreadable (reported): still check the rest, by number
            bank, problems = attach(bank, answers)
            diags.extend(problems)
        banks[i] = replace(scan_inline(bank), setup=setup.cells if setup else ())
    if identities is not None:
        diags.extend(record_answers(banks, identities, answer_keys))
    for bank in banks:
        diags.extend(unanswered(bank))
        diags.extend(shapes.check_answers(bank))
        diags.extend(_check_figures(bank, cfg))
        diags.extend(check_cells(bank))
        diags.extend(unsafe_latex_in_bank(bank))
    # a bad [print] (or any format's) setting is found before any cell runs, built or not
    shown = display_path(cfg.config_file) if cfg.config_file else None
    diags.extend(check_settings(cfg.settings, {t: table_location(cfg.config_file, t, shown)
                                               for t in cfg.settings}))
    return Gathered(banks, diags, identities, ambiguous)


def _own_note_types(cfg: Config, gathered: Gathered) -> dict[str, int] | None:
    """The note-type ids of a bank with its own templates: made once, kept in its lock."""
    if cfg.templates is None or gathered.identities is None:
        return None
    lock = gathered.identities.lock
    if not {"basic", "cloze"} <= set(lock.note_types):
        import secrets
        # Anki's ids are epoch milliseconds in practice; any positive 63-bit id is accepted
        lock.note_types = {"basic": 1 << 40 | secrets.randbits(39),
                           "cloze": 1 << 40 | secrets.randbits(39)}
    return lock.note_types


def answers_files(cfg: Config) -> tuple[dict[Path, list[Path]], list[Diagnostic]]:
    """Which answers files belong to which question file.

    With one question file, every answers file does. With several, an answers file belongs to
    the question file of the same name: ``answers/<stem>.md``, ``answers/<stem>/*.md`` or
    ``<stem>.answers.md``.
    """
    if len(cfg.sources) == 1:
        return {cfg.sources[0]: list(cfg.answers)}, []
    by_stem = {path.stem: path for path in cfg.sources}
    groups: dict[Path, list[Path]] = {}
    diags = []
    for answers in cfg.answers:
        stem = answers.name.removesuffix(".md").removesuffix(".answers")
        owner = by_stem.get(stem) or by_stem.get(answers.parent.name)
        if owner is None:
            diags.append(Diagnostic(Location(display_path(answers), 1), "this answers file "
                                    "belongs to no question file: in a bank of several question "
                                    "files, name each answers file after its question file "
                                    f"(answers/<name>.md; the question files are "
                                    f"{', '.join(sorted(p.name for p in cfg.sources))})",
                                    "answers-unmatched"))
            continue
        groups.setdefault(owner, []).append(answers)
    return groups, diags


def _read_answer_group(paths: list[Path], diags: list[Diagnostic]) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for path in paths:
        found, problems = read_answers(path, display_path(path))
        diags.extend(problems)
        for key, answer in found.items():
            if key in answers:
                diags.append(Diagnostic(answer.loc, f"answer {key} is also given at "
                                        f"{answers[key].loc}", "duplicate-answer"))
            else:
                answers[key] = answer
    return answers


def _check_figures(bank: Bank, cfg: Config) -> list[Diagnostic]:
    """Missing or unsafe figures are found here already, so ``deckgen check`` reports them."""
    from deckgen.media import MediaStore
    from deckgen.model import Figure

    store = MediaStore(cfg.root)
    base = Path(bank.path).parent if Path(bank.path).is_absolute() else \
        (Path.cwd() / bank.path).parent
    texts: list[tuple[str, Location]] = []
    for q in bank.questions:
        for blocks in (q.stem, *(p.body for p in q.parts)):
            for block in blocks:
                if isinstance(block, Figure):
                    store.image(block.src, base, block.loc)
                else:
                    texts.append((block.markdown, block.loc))
        # answers resolve images against the question file too (as the cards do)
        texts.extend((p.answer.markdown, p.answer.loc) for p in q.parts if p.answer)
    for markdown, loc in texts:
        for m in _IMAGE_REF.finditer(markdown):
            line = loc.line + markdown.count("\n", 0, m.start())
            store.image(m.group(1) or m.group(2), base, Location(loc.path, line))
    return store.diagnostics


# ![alt](src "title") and <img src="..."> inside question text
_IMAGE_REF = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)",
                        re.IGNORECASE)


@dataclass
class BuildResult:
    written: dict[str, Path]
    """format -> output path."""
    changed: dict[str, bool]
    diagnostics: list[Diagnostic]
    executed: int
    """Questions whose cells ran (cache misses)."""
    summary: dict[str, int]
    """cards, answered, media."""
    deck: Deck | None = None
    """None when the build was skipped because nothing changed."""
    removed: list[Entry] = field(default_factory=list)
    """Notes that were in the last build but are no longer in the source."""
    skipped: bool = False
    notes: list[str] = field(default_factory=list)
    """One-line reports from renderers (e.g. how many formulas the PDF drew by fallback)."""
    files: dict[Path, bool] = field(default_factory=dict)
    """Every file the renderers wrote -> whether this build changed it."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (``deckgen build -v`` prints them)."""


def make_deck(cfg: Config, gathered: Gathered, *, rerun: bool = False, execute: bool = True,
              progress: Progress | None = None) -> tuple[Deck, list[Diagnostic], int]:
    """Run (or fetch from the cache) every cell and render the cards; raises on errors."""
    from deckgen.cards import build_deck
    from deckgen.execute.runner import run_cells
    from deckgen.media import MediaStore

    results, exec_diags, executed = run_cells(gathered.banks, cfg, rerun=rerun, execute=execute,
                                              progress=progress)
    diags = gathered.diagnostics + exec_diags
    media = MediaStore(cfg.root)
    assert gathered.identities is not None
    deck, card_diags = build_deck(gathered.banks, cfg.name, results, media,
                                  gathered.identities.guids,
                                  subdeck_numbers=cfg.subdeck_numbers)
    diags += card_diags
    return deck, list(dict.fromkeys(diags)), executed


@disk_faults_reported("previous outputs were kept")
def build(cfg: Config, *, strict: bool = False, rerun: bool = False, execute: bool = True,
          progress: Progress | None = None) -> BuildResult:
    """Gather, validate, compute, then write every requested format.

    If nothing the build reads has changed since the last successful build and its outputs
    are untouched, nothing is parsed, run or written. Outputs, the lock file and the record
    of the build are committed together (atomic.py); a disk fault is a DiskError naming the
    file, never a traceback.
    """
    from deckgen import uptodate

    # first of all, finish (or clean up after) a build that was killed
    recover(cfg.root, cfg.out, *dict.fromkeys(p.parent for p in (*cfg.sources, *cfg.answers)),
            deep=[cfg.cache_dir])
    # the inputs as they are before anything reads them: what this build records as built
    fp = uptodate.fingerprint(cfg, {"strict": strict, "execute": execute,
                                    "formats": list(cfg.formats)})
    record = None if rerun else uptodate.up_to_date(cfg, fp)
    if record is not None:
        kept = {fmt: [Path(p) for p, _ in files] for fmt, files in record["outputs"].items()}
        return BuildResult(_primary(kept), {fmt: False for fmt in _primary(kept)},
                           uptodate.diagnostics_of(record), 0, record["summary"], skipped=True,
                           files={p: False for paths in kept.values() for p in paths})
    clock = time.perf_counter()
    timings: dict[str, float] = {}
    gathered = gather(cfg)
    timings["read and check the bank"] = time.perf_counter() - clock
    if gathered.errors:
        raise BuildFailed(gathered.diagnostics)
    clock = time.perf_counter()
    deck, diags, executed = make_deck(cfg, gathered, rerun=rerun, execute=execute,
                                      progress=progress)
    timings["cells and cards"] = time.perf_counter() - clock
    failing = [d for d in diags if d.severity is Severity.ERROR or
               (strict and d.severity is Severity.WARNING)]
    if failing:
        raise BuildFailed(diags)
    written: dict[str, list[Path]] = {}
    staging = Staging()
    notes: list[str] = []
    summary = {"cards": len(deck.cards), "answered": sum(c.answered for c in deck.cards),
               "media": len(deck.media)}
    note_types = _own_note_types(cfg, gathered)
    try:
        for fmt in cfg.formats:
            spec = FORMATS[fmt]
            target = Target(cfg.out, cfg.slug, staging,
                            cfg.settings.get(spec.table, {}) if spec.table else {},
                            cfg.templates, cfg.cache_dir, cfg.description, note_types,
                            progress)
            clock = time.perf_counter()
            try:
                report = spec.load().render(deck, target)
            except OSError as exc:  # the file it names, else the output it was making
                raise disk_error(exc.filename or cfg.out / cfg.slug, exc,
                                 then="previous outputs were kept") from exc
            timings[f"render {fmt}"] = time.perf_counter() - clock
            written[fmt] = report.files
            notes.extend(report.notes + report.actions)
            diags.extend(report.diagnostics)
        if any(d.severity is Severity.ERROR or (strict and d.severity is Severity.WARNING)
               for d in diags):  # a renderer's warnings count for --strict too
            raise BuildFailed(diags)
        assert gathered.identities is not None
        gathered.identities.lock.write(staging)
        uptodate.stage(staging, cfg, fp, written, summary,
                       [d for d in diags if d.code != "not-computed"])
        # every output, its state, the lock and the build's record, together
        clock = time.perf_counter()
        replaced = staging.commit()
        timings["commit"] = time.perf_counter() - clock
    finally:
        staging.abort()
    files = {p: replaced.get(p, False) for paths in written.values() for p in paths}
    return BuildResult(_primary(written), _primary_changed(written, files), diags, executed,
                       summary, deck, gathered.identities.removed, notes=notes, files=files,
                       timings=timings)


def _primary(written: dict[str, list[Path]]) -> dict[str, Path]:
    return {fmt: paths[0] for fmt, paths in written.items() if paths}


def _primary_changed(written: dict[str, list[Path]], files: dict[Path, bool]
                     ) -> dict[str, bool]:
    return {fmt: any(files[p] for p in paths) for fmt, paths in written.items() if paths}


def built_deck(cfg: Config, result: BuildResult, execute: bool = True) -> Deck:
    """The deck a build made; for a build skipped as up to date, the same deck made again
    from the cache (every result is there: nothing runs)."""
    if result.deck is not None:
        return result.deck
    deck, _, _ = make_deck(cfg, gather(cfg), execute=execute)
    return deck
