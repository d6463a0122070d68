"""Command line: parse options, call the library, print diagnostics. Heavy imports stay inside."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from deckgen import __version__
from deckgen.errors import BuildFailed, DeckgenError, Diagnostic, Severity
from deckgen.render import DEFAULT_FORMATS, FORMATS


def _print_diagnostics(diags: list[Diagnostic], quiet_warnings: bool = False) -> None:
    for d in sorted(diags, key=lambda d: (d.severity is not Severity.ERROR,
                                          (d.loc.path, d.loc.line) if d.loc else ("", 0))):
        if quiet_warnings and d.severity is Severity.WARNING:
            continue
        color = "red" if d.severity is Severity.ERROR else "yellow"
        click.secho(str(d), fg=color, err=True)


def _summary(diags: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diags)
    warnings = len(diags) - errors
    return f"{errors} error(s), {warnings} warning(s)"


def _load(source: tuple[Path, ...]):
    """The bank's settings, with the command's --name (see `name_option`) applied."""
    from deckgen import config
    if len(source) > 1:
        raise click.UsageError("give one bank: a directory with deckgen.toml or a question file")
    cfg = config.load(source[0] if source else None)
    ctx = click.get_current_context(silent=True)
    return config.override(cfg, name=ctx.meta.get(_NAME_KEY) if ctx else None)


def _gather(source: tuple[Path, ...], timings: dict[str, float] | None = None):
    """The bank's settings and everything `gather` read (exits with the message on a bad
    bank); how long reading took goes into ``timings`` (for -v)."""
    from deckgen.pipeline import gather

    try:
        cfg = _load(source)
        with _timed({} if timings is None else timings, "read and check the bank"):
            gathered = gather(cfg)
        return cfg, gathered
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)


def _commit(command: str, stage) -> None:
    """Stage files with ``stage(staging)`` and write them all together, or exit with a
    message (the files stay as they were)."""
    from deckgen.atomic import Staging

    staging = Staging()
    try:
        stage(staging)
        staging.commit()
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    except (OSError, ValueError) as exc:
        click.secho(f"{command}: {exc}", fg="red", err=True)
        sys.exit(1)
    finally:
        staging.abort()


_NAME_KEY = "deckgen.name"


def _remember_name(ctx: click.Context, _param, value: str | None) -> None:
    ctx.meta[_NAME_KEY] = value


name_option = click.option(
    "--name", default=None, expose_value=False, callback=_remember_name, metavar="TEXT",
    help="Deck name (default: 'name' in deckgen.toml, else the question file's first # "
    "heading, else the file's or folder's name).")
"""--name for every command that reads a bank; `_load` applies it."""


FORMAT_HELP = ("Comma-separated outputs, of: " + "; ".join(
    f"{f.name}, {f.help}" for f in FORMATS.values())
    + f" (default: {','.join(DEFAULT_FORMATS)}, or 'formats' in deckgen.toml).")


def _formats(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


verbose_option = click.option("--verbose", "-v", is_flag=True,
                              help="Also print how long each phase of a build took.")


def _quiet(help: str = "Print errors only."):
    """-q for a command that does not build; ``help`` says what it still prints."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def _verbose(help: str = "Also print the files read and how long each phase took."):
    """-v for a command that does not build: what it adds goes to stderr (see `_read_report`),
    so that the command's output (a list, a diff, its JSON) stays as it is."""
    return click.option("--verbose", "-v", is_flag=True, help=help)


@contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    """Add how long the block took to ``timings`` as ``phase`` (-v prints it)."""
    clock = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = time.perf_counter() - clock


def _read_report(cfg, timings: dict[str, float], *more: str) -> None:
    """-v of a command that reads a bank without building it: the bank, the settings and files
    it read, ``more`` lines, then how long each phase took; on stderr."""
    from deckgen.pipeline import display_path

    click.echo(f"bank: {display_path(cfg.root)}", err=True)
    click.echo(f"settings: {display_path(cfg.config_file) if cfg.config_file else 'none'}",
               err=True)
    for what, paths in (("question files", cfg.sources), ("answers files", cfg.answers)):
        click.echo(f"{what}: {', '.join(display_path(p) for p in paths) or 'none'}", err=True)
    for line in more:
        click.echo(line, err=True)
    _phases(timings, err=True)


no_exec_option = click.option(
    "--no-exec", is_flag=True,
    help="Build as an untrusted bank even if you trust it: run no code (cached results only, "
    "and say which are missing), keep its files and outputs inside its folder, ignore its "
    "templates.")
trust_option = click.option(
    "--trust", "trust_flag", is_flag=True,
    help="Trust this bank for this command: run its code and use its templates (`deckgen "
    "trust` remembers it). Only for a bank you wrote or whose author you trust.")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _trust_mode(cfg, no_exec: bool, trust_flag: bool, out_given: bool, quiet: bool = False):
    """The settings to build with and whether code may run, after asking whether the bank
    is trusted (see `deckgen.trust`). An untrusted bank is built as with --no-exec; a build
    in a terminal asks once for a bank that has code, templates or outside paths. ``quiet``
    (-q) leaves out the notes on what an untrusted build sets aside (not the question)."""
    from deckgen import config, trust

    if no_exec and trust_flag:
        raise click.UsageError("--trust and --no-exec contradict each other; give one")
    if not no_exec and (trust_flag or trust.trusted(cfg.root)):
        return cfg, True
    needs = trust.reasons(cfg, out_given) if not no_exec else None
    if needs and _interactive():
        click.secho(f"{cfg.root} is not a bank you have trusted yet. Trusting it allows:",
                    fg="yellow", err=True)
        for line in needs.lines():
            click.echo(f"  - {line}", err=True)
        click.echo("Its code runs as you, with your files: trust only a bank you wrote or "
                   "whose author you trust.", err=True)
        if click.confirm("Trust this bank (remembered) and run its code?", default=False,
                         err=True):
            trust.remember(cfg.root)
            click.echo(f"trusted {cfg.root} (`deckgen trust --remove` takes it back)",
                       err=True)
            return cfg, True
    hint = (f"if you wrote this bank or trust its author: `deckgen trust "
            f"{_shell_path(cfg.root)}` (remembered) or --trust (this command)")
    if no_exec:
        cfg, set_aside = config.untrusted(cfg, out_given)
    else:
        cfg, set_aside = config.untrusted(cfg, out_given, "not a trusted bank", hint)
    if quiet:
        return cfg, False
    for note in set_aside:
        click.secho(note, fg="yellow", err=True)
    if needs and needs.cells:
        cells = sum(needs.cells.values())
        click.secho(f"{cfg.root} is not a trusted bank, so none of its code ran ({cells} "
                    "Python cell(s)): the cards show results you computed before, or say "
                    f"what is missing; {hint}", fg="yellow", err=True)
    return cfg, False


def _shell_path(path: Path) -> str:
    import os
    import shlex

    try:
        shown = os.path.relpath(path)
    except ValueError:
        shown = str(path)
    return shlex.quote(shown if not shown.startswith("..") else str(path))


class _Commands(click.Group):
    """deckgen's commands: Ctrl-C ends any of them with exit status 130 (128 + SIGINT), as
    shells expect, after a one-line note; what a build was writing is kept as it was."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted (Ctrl-C): nothing more was done; outputs are as the last "
                       "finished build left them", err=True)
            ctx.exit(130)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Turn a Markdown question bank into an Anki deck, printable cards and a JSON list.

    Without a SOURCE, commands use the bank in ./source (its settings in
    source/deckgen.toml). Answers live in answers files beside the bank; some are computed
    by Python cells when the deck is built (see docs/ANSWERS.md). Set NO_COLOR to print
    without colours.
    """
    import os

    if os.environ.get("NO_COLOR"):  # https://no-color.org: any non-empty value
        ctx.color = False


source_arg = click.argument("source", nargs=-1, type=click.Path(path_type=Path))


def print_options(f):
    """The PDF's command-line options (unset flags never override deckgen.toml)."""
    options = [
        click.option("--layout", type=click.Choice(["long-edge", "short-edge", "fold"]),
                     default=None, help="PDF: duplex flipped on the long edge (default), on "
                     "the short edge, or fold-over (front and back side by side)."),
        click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False),
                     default=None, help="PDF: paper size (default a4)."),
        click.option("--card", "card_size",
                     type=click.Choice(["eight", "a7", "index", "business"]), default=None,
                     help="PDF: card size: eight (95x65 mm, 8 per A4 or Letter sheet; default), "
                     "a7, index (3x5 in), business (2x3.5 in)."),
        click.option("--back-offset", default=None, metavar="X,Y",
                     help="PDF: shift the backs by X,Y mm (see `deckgen calibrate`)."),
        click.option("--section", default=None, help="PDF: print only this section."),
        click.option("--questions", default=None, metavar="LIST",
                     help="PDF: print only these questions, e.g. 1,5-9."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _with_print_flags(cfg, printing: dict):

    mapping = {"layout": "layout", "paper": "paper", "card_size": "card",
               "back_offset": "back_offset", "section": "section", "questions": "questions"}
    given = {mapping[k]: v for k, v in printing.items() if v is not None}
    return cfg.with_settings("print", {**cfg.print_options, **given}) if given else cfg


@main.command()
@source_arg
@name_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: build/, or 'out' in deckgen.toml).")
@click.option("--format", "-f", "formats", default=None, metavar="LIST",
              help=FORMAT_HELP)
@click.option("--rerun", is_flag=True, help="Run every cell again, ignoring cached results.")
@no_exec_option
@trust_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes for cells (default: 2, or 'jobs' in deckgen.toml).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@verbose_option
@print_options
def build(source, out, formats, rerun, no_exec, trust_flag, jobs, strict, quiet, verbose,
          **printing) -> None:
    """Build the deck: parse, compute answers, write build/<deck>.apkg, .json and -cards.pdf.

    Nothing is written unless the whole build succeeds; outputs are replaced together.
    The PDF options (also settable under [print] in deckgen.toml) apply to the PDF only.
    """
    from deckgen import config
    from deckgen.pipeline import build as run_build

    started = time.perf_counter()
    try:
        cfg = config.override(_load(source), out=out, formats=_formats(formats), jobs=jobs)
        cfg = _with_print_flags(cfg, printing)
        cfg, execute = _trust_mode(cfg, no_exec, trust_flag, out is not None, quiet)
        result = run_build(cfg, strict=strict, rerun=rerun, execute=execute,
                           progress=_progress_bar(quiet))
    except DeckgenError as exc:
        _fail(exc, "previous outputs were kept")
    _report(result, quiet)
    if not quiet:
        s = result.summary
        for path, changed in result.files.items():
            click.echo(f"{path} ({'written' if changed else 'unchanged'})")
        _timings(result, verbose)
        what = "nothing changed since the last build; " if result.skipped else ""
        click.echo(f"{what}{s['cards']} cards ({s['answered']} answered), {s['media']} media "
                   f"files, {result.executed} question(s) computed, "
                   f"{_summary(result.diagnostics)} in {time.perf_counter() - started:.2f} s")


def _report(result, quiet: bool = False) -> None:
    """What a build has to tell, the same for `build` and `watch`: its warnings, the notes no
    longer in the source (with a search for Anki's browser) and the renderers' notes."""
    _print_diagnostics(result.diagnostics, quiet_warnings=quiet)
    if result.removed:
        from deckgen.identity import anki_query

        names = ", ".join(f"Q{e.key} ({e.text[:40]!r})" for e in result.removed[:10])
        more = f" and {len(result.removed) - 10} more" if len(result.removed) > 10 else ""
        click.secho(f"{len(result.removed)} note(s) are no longer in the source: {names}{more}. "
                    "Anki never deletes notes on import; to find them in Anki's browser, "
                    f"search for:\n  {anki_query([e.guid for e in result.removed])}",
                    fg="yellow", err=True)
    if not quiet:
        for note in result.notes:
            click.echo(note)


def _timings(result, verbose: bool) -> None:
    """-v: how long each phase of a build took."""
    if verbose:
        _phases(result.timings)


def _phases(timings: dict[str, float], err: bool = False) -> None:
    """-v's lines: how long each phase took."""
    for phase, seconds in timings.items():
        click.echo(f"  {phase}: {seconds:.2f} s", err=err)


def _fail(exc: DeckgenError, then: str) -> NoReturn:
    """Print why a command failed (every diagnostic of a failed build) and exit 1."""
    if isinstance(exc, BuildFailed):
        _print_diagnostics(exc.diagnostics)
        click.secho(f"build failed: {_summary(exc.diagnostics)}; {then}", fg="red", err=True)
    else:
        click.secho(str(exc), fg="red", err=True)
    sys.exit(1)


def _reloaded(source, out, execute: bool, **flags):
    """The bank's settings read again (deckgen.toml may have changed since the last build),
    untrusted as at the start if the bank was."""
    from deckgen import config

    cfg = config.override(_load(source), out=out, **flags)
    return cfg if execute else config.untrusted(cfg, out is not None)[0]


def _rebuild_on_save(cfg, execute: bool, once, what: str, started=None) -> None:
    """Run ``once`` now and after every save of a bank file (not the outputs, the lock, hidden
    or backup files), with the cell workers kept warm between builds (numpy, torch, sympy and
    matplotlib imported once); Ctrl-C ends it with exit status 130."""
    from contextlib import nullcontext

    from watchfiles import watch as watch_files

    from deckgen.execute.runner import warm_workers

    out_dir = cfg.out.resolve()

    def relevant(_change, path: str) -> bool:
        p = Path(path).resolve()
        return out_dir not in p.parents and p.name != "deckgen.lock" and \
            not p.name.startswith(".") and not p.name.endswith("~")

    with warm_workers(cfg) if execute else nullcontext():
        try:
            once()
            if started is not None:
                started()
            for _ in watch_files(cfg.root, watch_filter=relevant, debounce=300):
                once()
        except KeyboardInterrupt:
            click.echo(f"\nstopped {what}", err=True)
            sys.exit(130)


def _progress_bar(quiet: bool):
    """A progress callback for the long phases, running the cells and typesetting the PDF
    (a bar on stderr for each), or None when quiet."""
    if quiet:
        return None
    bars: dict[str, Any] = {}

    def progress(done: int, total: int, label: str, phase: str = "Running cells") -> None:
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = click.progressbar(length=total, label=phase, file=sys.stderr,
                                                  show_pos=True, item_show_func=lambda s: s)
            bar.__enter__()
        bar.update(1, label)
        if done == total:
            bar.__exit__(None, None, None)
    return progress


@main.command()
@source_arg
@name_option
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors (and the summary) only.")
@_verbose()
def check(source, strict, quiet, verbose) -> None:
    """Lint the bank and its answers without running code or writing files (except the cache).

    Reports errors and warnings as file:line: message [code]: unanswered parts, missing or
    unsafe figures, broken Markdown or LaTeX, words a PDF conversion broke or ran together
    ("ex- cellent", "Whichwellknownmetric"), duplicate ids, answers that may be stale since
    their question changed, cells that failed or were slow in the last build, and (when the
    formats include pdf) formulas the printed cards can only show as LaTeX source. Exits 1 on
    errors (with --strict, on warnings too).
    """
    from deckgen.execute.runner import cell_report

    timings: dict[str, float] = {}
    cfg, gathered = _gather(source, timings)
    with _timed(timings, "the last build's cells"):
        gathered.diagnostics.extend(cell_report(gathered.banks, cfg))
    if "pdf" in cfg.formats:  # formulas the printed cards will show as LaTeX source
        from deckgen.render.pdf import static_formula_warnings
        with _timed(timings, "formulas for the PDF"):
            gathered.diagnostics.extend(static_formula_warnings(gathered.banks, cfg.cache_dir,
                                                                cfg.print_options))
    _print_diagnostics(gathered.diagnostics, quiet_warnings=quiet)
    if verbose:
        _read_report(cfg, timings)
    parts = sum(len(q.parts) for b in gathered.banks for q in b.questions)
    questions = sum(len(b.questions) for b in gathered.banks)
    unanswered = sum(d.code == "missing-answer" for d in gathered.diagnostics)
    click.echo(f"{questions} questions, {parts} parts, {unanswered} unanswered; "
               f"{_summary(gathered.diagnostics)}")
    failing = gathered.errors or (strict and gathered.diagnostics)
    sys.exit(1 if failing else 0)


@main.command()
@source_arg
@name_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Where the last build is (default: build/, or 'out' in deckgen.toml).")
@click.option("--json", "as_json", is_flag=True, help="Print the preview as JSON.")
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged notes.")
@no_exec_option
@trust_option
@_quiet("Print errors and the changes only (no counts line).")
@_verbose()
def diff(source, out, as_json, show_all, no_exec, trust_flag, quiet, verbose) -> None:
    """Preview what importing a new build into Anki will do.

    Compares the bank as it is now with the last package in the output directory: which
    notes are new, updated (and which fields), unchanged or orphaned (no longer in the
    source; Anki keeps them). Cells run only if their results are not cached (with
    --no-exec, none runs). Writes nothing.
    """
    import json as jsonlib

    from deckgen.diff import compare
    from deckgen.pipeline import gather, make_deck

    from deckgen import config

    timings: dict[str, float] = {}
    try:
        cfg = config.override(_load(source), out=out)
        cfg, execute = _trust_mode(cfg, no_exec, trust_flag, out is not None, quiet)
        with _timed(timings, "read and check the bank"):
            gathered = gather(cfg)
        if gathered.errors:
            raise BuildFailed(gathered.diagnostics)
        with _timed(timings, "cells and cards"):
            deck, diags, _ = make_deck(cfg, gathered, execute=execute)
        if any(d.severity is Severity.ERROR for d in diags):
            raise BuildFailed(diags)
    except BuildFailed as exc:
        _print_diagnostics(exc.diagnostics, quiet_warnings=quiet)
        sys.exit(1)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    last = cfg.out / f"{cfg.slug}.apkg"
    try:
        with _timed(timings, "compare with the last build"):
            changes = compare(deck, last)
    except OSError as exc:
        click.secho(f"cannot read the last build {exc.filename or cfg.out}: "
                    f"{exc.strerror or exc}", fg="red", err=True)
        sys.exit(1)
    counts = {k: sum(c.what == k for c in changes)
              for k in ("new", "updated", "unchanged", "orphaned")}
    if as_json:
        click.echo(jsonlib.dumps({"counts": counts, "changes": [
            c.to_json() for c in changes if show_all or c.what != "unchanged"]}, indent=1))
    else:
        for c in changes:
            if c.what == "unchanged" and not show_all:
                continue
            detail = f" ({', '.join(c.fields)})" if c.fields else ""
            click.echo(f"{c.what:<9} {c.ref:<8}{detail}" + (f"  - {c.note}" if c.note else ""))
        if not quiet:
            click.echo(", ".join(f"{n} {k}" for k, n in counts.items()))
    if verbose:
        from deckgen.pipeline import display_path
        _read_report(cfg, timings, f"last build: {display_path(last)}")


@main.command()
@source_arg
@name_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: build/, or 'out' in deckgen.toml).")
@click.option("--url", default=None, metavar="URL",
              help="Where AnkiConnect answers (default: $DECKGEN_ANKI_URL, else "
              "http://127.0.0.1:8765).")
@click.option("--key", default=None, metavar="KEY", envvar="DECKGEN_ANKI_KEY",
              help="AnkiConnect's apiKey, if you set one (or $DECKGEN_ANKI_KEY).")
@click.option("--collection", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Push into this closed collection file (collection.anki2 in your Anki "
              "profile's folder) instead of a running Anki; it is backed up first.")
@click.option("--move", is_flag=True,
              help="Move cards that are in another deck than the bank says back to it "
              "(default: leave them where you put them, and say so).")
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged notes.")
@no_exec_option
@trust_option
@click.option("--quiet", "-q", is_flag=True, help="Print errors and the summary only.")
@verbose_option
def push(source, out, url, key, collection, move, show_all, no_exec, trust_flag,
         quiet, verbose) -> None:
    """Build, then bring the deck into Anki without the import dialog.

    Into a running Anki through the AnkiConnect add-on (on this computer), or into a closed
    collection file with --collection. Either way Anki's own importer does the work, as File >
    Import would: notes are matched by their GUID, updated only when the build changed them,
    and keep their review history. Nothing is deleted: notes no longer in the source are
    tagged deckgen::removed. Prints what it did: new, updated (which fields), unchanged.
    """
    import os

    from deckgen import config
    from deckgen.identity import LOCK_NAME, Lock
    from deckgen.pipeline import build as run_build
    from deckgen.pipeline import built_deck
    from deckgen.push import DEFAULT_URL, REMOVED_TAG, push_collection, push_connect

    try:
        cfg = config.override(_load(source), out=out)
        if "apkg" not in cfg.formats:
            cfg = config.override(cfg, formats=(*cfg.formats, "apkg"))
        cfg, execute = _trust_mode(cfg, no_exec, trust_flag, out is not None, quiet)
        result = run_build(cfg, execute=execute, progress=_progress_bar(quiet))
        _report(result, quiet)
        _timings(result, verbose)
        deck = built_deck(cfg, result, execute)
        removed = [e.guid for e in Lock.read(cfg.root / LOCK_NAME).entries if e.removed]
        apkg = result.written["apkg"]
        if collection is not None:
            where = str(collection)
            report = push_collection(deck, apkg, removed, collection, move)
        else:
            where = url or os.environ.get("DECKGEN_ANKI_URL") or DEFAULT_URL
            report = push_connect(deck, apkg, removed, where, move, key)
    except DeckgenError as exc:
        _fail(exc, "nothing was pushed")
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if not quiet:
        for line in report.lines(show_all):
            click.echo(line)
    if report.elsewhere and not move:
        click.secho(f"{len(report.elsewhere)} note(s) have cards in another deck than the bank "
                    f"says ({', '.join(report.elsewhere[:5])}); --move puts them back",
                    fg="yellow", err=True)
    if report.removed:
        click.echo(f"notes no longer in the source are tagged {REMOVED_TAG}: search "
                   f"tag:{REMOVED_TAG} in Anki's browser to review or delete them")
    click.echo(f"pushed {deck.name} to {where}: {report.summary()}")


@main.command()
@source_arg
@name_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: build/, or 'out' in deckgen.toml).")
@click.option("--format", "-f", "formats", default=None, metavar="LIST",
              help="Outputs to rebuild (default: those of `deckgen build`).")
@no_exec_option
@trust_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or warnings: errors and "
              "one line per rebuild.")
@verbose_option
def watch(source, out, formats, no_exec, trust_flag, quiet, verbose) -> None:
    """Rebuild whenever a file of the bank changes (Ctrl-C stops).

    Each rebuild prints what `deckgen build` prints: its warnings, the notes no longer in the
    source, then one summary line. The cell workers stay running between rebuilds with numpy,
    torch, sympy and matplotlib imported, so an edited cell runs at once (each question still
    starts from a fresh namespace and fixed seeds).
    """
    from deckgen import config
    from deckgen.pipeline import build as run_build

    try:
        cfg = config.override(_load(source), out=out, formats=_formats(formats))
        cfg, execute = _trust_mode(cfg, no_exec, trust_flag, out is not None, quiet)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)

    def once() -> None:
        started = time.perf_counter()
        try:
            now = _reloaded(source, out, execute, formats=_formats(formats))
            result = run_build(now, execute=execute, progress=_progress_bar(quiet))
        except BuildFailed as exc:
            _print_diagnostics(exc.diagnostics)
            click.secho(f"{time.strftime('%H:%M:%S')} build failed: "
                        f"{_summary(exc.diagnostics)}; previous outputs kept", fg="red")
            return
        except DeckgenError as exc:
            click.secho(f"{time.strftime('%H:%M:%S')} {exc}", fg="red")
            return
        if not result.skipped:
            _report(result, quiet)
        _timings(result, verbose)
        changed = [f for f, c in result.changed.items() if c]
        click.echo(f"{time.strftime('%H:%M:%S')} {result.summary['cards']} cards, "
                   f"{result.executed} question(s) computed, "
                   f"{'wrote ' + ', '.join(changed) if changed else 'outputs unchanged'}, "
                   f"{_summary(result.diagnostics)} in {time.perf_counter() - started:.2f} s")

    click.echo(f"watching {cfg.root} (Ctrl-C to stop)")
    _rebuild_on_save(cfg, execute, once, "watching")


@main.command()
@source_arg
@name_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: build/, or 'out' in deckgen.toml).")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the page (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 shows your cards to your "
              "network.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in your browser.")
@no_exec_option
@trust_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or warnings in the "
              "terminal (the page still lists them).")
@verbose_option
def serve(source, out, port, host, open_browser, no_exec, trust_flag, quiet, verbose) -> None:
    """Show every card as Anki shows it, on a local page that follows your edits.

    Builds the bank, then serves http://127.0.0.1:PORT/: both sides of every card with
    Anki's own MathJax, in light or night mode, at phone or desktop width; filters by
    section, kind, text, unanswered cards and cards with warnings; the build's warnings with
    their file:line. Each time you save a bank file it rebuilds (as `deckgen watch` does,
    writing the outputs) and the page shows the new cards where you were. Ctrl-C stops.
    MathJax is Anki's, fetched once with pip into your cache (about 4 MB).
    """
    import webbrowser

    from deckgen import config, mathjax
    from deckgen.pipeline import build as run_build
    from deckgen.pipeline import built_deck
    from deckgen.preview import deck_data, note_templates
    from deckgen.serve import Preview, make_server

    try:
        cfg = config.override(_load(source), out=out)
        cfg, execute = _trust_mode(cfg, no_exec, trust_flag, out is not None, quiet)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    js = mathjax.find()
    if js is None:
        click.echo(f"fetching Anki's MathJax ({mathjax.AQT}, once) ...", err=True)
        try:
            js = mathjax.fetch()
        except (OSError, RuntimeError) as exc:
            click.secho(f"warning: no MathJax ({exc}); formulas show as their LaTeX source. "
                        "Set DECKGEN_MATHJAX to a folder with Anki's mathjax.js and "
                        "vendor/mathjax/", fg="yellow", err=True)
    preview = Preview()
    try:
        server = make_server(preview, js, host, port)
    except OSError as exc:
        click.secho(f"cannot listen on {host}:{port}: {exc.strerror or exc} (try --port 0)",
                    fg="red", err=True)
        sys.exit(1)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:" \
          f"{server.server_address[1]}/"
    last: dict[str, Any] = {}

    def once() -> None:
        started = time.perf_counter()
        try:
            now = _reloaded(source, out, execute)
            result = run_build(now, execute=execute, progress=_progress_bar(quiet))
            if not result.skipped:
                _report(result, quiet)
            _timings(result, verbose)
            deck = built_deck(now, result, execute)
            templates, css = note_templates(now.templates)
            last.update(templates=templates, css=css, deck=deck)
            preview.publish(deck_data(deck, last["templates"], last["css"], result.diagnostics,
                                      0), deck.media)
            click.echo(f"{time.strftime('%H:%M:%S')} {len(deck.cards)} cards, "
                       f"{result.executed} question(s) computed, "
                       f"{_summary(result.diagnostics)} in {time.perf_counter() - started:.2f} s")
        except DeckgenError as exc:
            diags = exc.diagnostics if isinstance(exc, BuildFailed) else [exc.diagnostic]
            _print_diagnostics(diags, quiet_warnings=quiet)
            what = f"build failed: {_summary(diags)}; the page shows the last good build"
            click.secho(f"{time.strftime('%H:%M:%S')} {what}", fg="red")
            if "deck" in last:
                preview.publish(deck_data(last["deck"], last["templates"], last["css"], diags,
                                          0, what), last["deck"].media)

    def started() -> None:
        click.echo(f"serving {cfg.root} at {url} (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _rebuild_on_save(cfg, execute, once, "serving", started)
    finally:
        server.shutdown()


@main.command()
@source_arg
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: build/).")
@_quiet()
@_verbose("Also print the print settings used and how long typesetting took.")
@print_options
def calibrate(source, out, quiet, verbose, **printing) -> None:
    """Write a calibration sheet for duplex printing (build/calibration.pdf).

    Print it double-sided at 100%; if the crosses on the back are shifted, set the shift as
    back_offset under [print] in deckgen.toml (or --back-offset X,Y).
    """
    from deckgen import config
    from deckgen.atomic import write_bytes_atomic
    from deckgen.render.pdf import calibration_pdf, print_options as make_options

    timings: dict[str, float] = {}
    try:
        cfg = _with_print_flags(config.override(_load(source), out=out), printing)
        options = make_options(cfg.print_options)
        with _timed(timings, "typeset the sheet"):
            pdf = calibration_pdf(options, cfg.templates)
        path = cfg.out / "calibration.pdf"
        write_bytes_atomic(path, pdf)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    except OSError as exc:
        click.secho(f"cannot write {exc.filename or cfg.out}: {exc.strerror or exc}", fg="red",
                    err=True)
        sys.exit(1)
    if verbose:
        from deckgen.pipeline import display_path
        settings = display_path(cfg.config_file) if cfg.config_file else "none"
        x, y = options.back_offset
        click.echo(f"settings: {settings}", err=True)
        click.echo(f"layout {options.layout}, paper {options.paper}, card {options.card}, "
                   f"back offset {x:g},{y:g} mm", err=True)
        _phases(timings, err=True)
    if not quiet:
        click.echo(f"{path} written: print it double-sided at 100% (not fit to page)")


@main.command(name="list")
@source_arg
@name_option
@click.option("--quiet", "-q", is_flag=True, expose_value=False,
              help="Print the list and errors only (as it does anyway).")
@_verbose()
def list_(source, verbose) -> None:
    """Show how the bank was read: per file its question style, per card its answer key,
    kind, whether it is answered, its first words and its location."""

    timings: dict[str, float] = {}
    cfg, gathered = _gather(source, timings)
    for bank in gathered.banks:
        cards = sum(len(q.parts) for q in bank.questions)
        how = "set in deckgen.toml" if cfg_style(cfg, bank) else "detected"
        click.secho(f"{bank.path}: {bank.style} style ({how}), {len(bank.questions)} "
                    f"questions, {cards} cards", bold=True)
        rows = [(q.section, q.key(part), part.kind.value + (
                    f" ({_count(len(part.choices), 'option')})" if part.choices else
                    f" ({_count(part.blanks, 'blank')})" if part.blanks else ""),
                 "answered" if part.answer else "-", first_words(q, part), part.loc.line)
                for q in bank.questions for part in q.parts]
        key_w = max((len(r[1]) for r in rows), default=3)
        kind_w = max((len(r[2]) for r in rows), default=4)
        section = None
        for sec, key, kind, mark, words, line in rows:
            if sec != section:
                section = sec
                click.secho(f"  {section or '(no section)'}", bold=True)
            click.echo(f"    {key:<{key_w}}  {kind:<{kind_w}}  {mark:<8}  {words:<48}  "
                       f"line {line}")
    errors = [d for d in gathered.diagnostics if d.code in ("no-questions", "unreadable",
                                                            "encoding")]
    _print_diagnostics(errors)
    if verbose:
        _read_report(cfg, timings)
    sys.exit(1 if errors else 0)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def cfg_style(cfg, bank) -> str | None:
    """The style deckgen.toml sets for this bank's file, if any."""
    return cfg.style_for(Path(bank.path))


def first_words(q, part, width: int = 48) -> str:
    """The start of a card's question, on one line, for `deckgen list`."""
    from deckgen.model import Text

    blocks = part.body if part.label else q.stem
    text = " ".join(" ".join(b.markdown for b in blocks if isinstance(b, Text)).split())
    return text if len(text) <= width else text[:width - 1] + "…"


@main.command()
@source_arg
@click.option("--write", is_flag=True,
              help="Rewrite the headings (all files and the lock together); without it, "
              "only show what would change.")
@_quiet("Print errors only (without --write, also the changes).")
@_verbose()
def renumber(source, write, quiet, verbose) -> None:
    """Rename answers-file headings to their questions' current numbers.

    After questions are inserted, moved or deleted, answers still follow their questions
    (the lock file knows which answer belongs to which note), but a heading such as `## 12`
    may now answer question 13. This shows each such heading; with --write it rewrites them.
    Only the keys in the headings change, never the answers' text.
    """
    from deckgen.pipeline import display_path
    from deckgen.renumber import apply, plan

    timings: dict[str, float] = {}
    cfg, gathered = _gather(source, timings)
    if gathered.errors or gathered.identities is None:
        _print_diagnostics(gathered.errors)
        click.secho("renumber: fix the errors above first; nothing was changed", fg="red",
                    err=True)
        sys.exit(1)
    changes = plan(gathered, {display_path(p): p for p in cfg.answers})
    if not (quiet and write):
        for change in changes:
            click.echo(str(change))
    if write and changes:
        with _timed(timings, "rewrite the headings"):
            _commit("renumber", lambda staging: apply(changes, gathered, staging))
    if not quiet:
        if not changes:
            click.echo("every answers-file heading already has its question's number")
        elif not write:
            click.echo(f"{len(changes)} heading(s) would change; run with --write to rewrite "
                       "them")
        else:
            click.echo(f"{len(changes)} heading(s) rewritten")
    if verbose:
        _read_report(cfg, timings)


@main.command()
@click.argument("keys", nargs=-1)
@click.option("--bank", "source", type=click.Path(path_type=Path), default=None,
              help="The bank (default: as for the other commands).")
@click.option("--all", "accept_all", is_flag=True, help="Accept every stale answer.")
@_quiet()
@_verbose()
def accept(keys, source, accept_all, quiet, verbose) -> None:
    """Mark answers as still right after their questions changed.

    `deckgen check` warns when a question changed after its answer was last edited
    ([deckgen.stale-answer]). If the answer still fits, accept it by its key (e.g.
    `deckgen accept 12 34.2`, or --all) and the warning goes away; the lock file remembers.
    An answer the build could not bind ([deckgen.answer-ambiguous]) is bound by its key to
    the question that has that number now.
    """
    from deckgen.identity import accept as accept_answers

    if not keys and not accept_all:
        raise click.UsageError("give the keys to accept (as `deckgen check` shows them), "
                               "or --all")
    wanted = {k.upper().removeprefix("Q") for k in keys} or None
    timings: dict[str, float] = {}
    cfg, gathered = _gather((source,) if source else (), timings)
    if gathered.identities is None:
        _print_diagnostics(gathered.errors)
        sys.exit(1)
    done = accept_answers(gathered.banks, gathered.identities, wanted, gathered.ambiguous)
    missing = sorted((wanted or set()) - set(done))
    failed = bool(missing and not done)
    if done:
        with _timed(timings, "write the lock file"):
            _commit("accept", gathered.identities.lock.write)
        if not quiet:
            click.echo(f"accepted: {', '.join(done)}")
    if missing and (failed or not quiet):  # the error when nothing was accepted
        click.secho(f"no stale answer for: {', '.join(missing)}", fg="yellow", err=True)
    if not done and not missing and not quiet:
        click.echo("no answer is stale")
    if verbose:
        from deckgen.identity import LOCK_NAME
        from deckgen.pipeline import display_path
        _read_report(cfg, timings, f"lock file: {display_path(cfg.root / LOCK_NAME)}")
    sys.exit(1 if failed else 0)


@main.command(name="trust")
@source_arg
@click.option("--remove", is_flag=True, help="Stop trusting the bank.")
@click.option("--list", "show", is_flag=True, help="List the banks you trust.")
@_quiet("Print errors (and the --list) only.")
@_verbose("Also print where the list of trusted banks is kept.")
def trust_(source, remove, show, quiet, verbose) -> None:
    """Trust a bank: let its builds run its Python cells and use its templates.

    A bank is untrusted until you say otherwise (here, by answering yes when a build asks,
    with --trust on one command, or by creating it with `deckgen new`). An untrusted bank is
    built as with --no-exec: no code runs, its files and outputs stay inside its folder, its
    templates are not used. Trust only a bank you wrote or whose author you trust: its code
    runs as you, with your files. The list is kept outside every bank
    (~/.config/deckgen/trusted-banks.json).
    """
    from deckgen import trust

    if verbose:
        click.echo(f"list of trusted banks: {trust.store()}", err=True)
    if show:
        for path in trust.listed():
            click.echo(path)
        return
    try:
        root = _load(source).root
        changed = trust.forget(root) if remove else trust.remember(root)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    except OSError as exc:
        click.secho(f"cannot write {exc.filename or trust.store()}: {exc.strerror or exc}",
                    fg="red", err=True)
        sys.exit(1)
    if quiet:
        return
    if remove:
        click.echo(f"{root}: {'no longer trusted' if changed else 'was not trusted'}")
    else:
        click.echo(f"{root}: {'trusted' if changed else 'already trusted'}; its builds run "
                   "its code")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", default=None, metavar="TEXT",
              help="Deck name (default: the directory's name, made readable).")
@_quiet()
@_verbose("Also print where the bank was remembered as trusted.")
def new(directory, name, quiet, verbose) -> None:
    """Start a bank in DIRECTORY: settings, one question of each kind, their answers (one
    computed by a Python cell) and a README. DIRECTORY must not exist or be empty."""
    import shlex

    from deckgen.scaffold import create

    from deckgen import trust

    try:
        written = create(directory, name)
    except DeckgenError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    try:
        trust.remember(directory)  # you wrote it (its answers hold one cell)
        if verbose:
            click.echo(f"trusted {directory.resolve()} (listed in {trust.store()})", err=True)
    except OSError as exc:
        if not quiet:
            click.secho(f"could not remember {directory} as trusted ({exc.strerror or exc}): "
                        "build it with --trust", fg="yellow", err=True)
    if quiet:
        return
    for path in written:
        click.echo(f"{path} written")
    where = "" if directory.resolve() == Path.cwd().resolve() else \
        f"cd {shlex.quote(str(directory))} && "
    click.echo(f"next: {where}deckgen check && deckgen build")


if __name__ == "__main__":  # pragma: no cover
    main()
