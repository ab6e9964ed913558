"""The ``kefu`` command line. Each command parses options and calls one library function.

Exit codes: 0 success; 1 an error the message explains (bad option, missing folder, bad config);
2 a usage error; 3 the run finished but ``--strict`` was given and some inputs were rejected;
130 interrupted.

Every command pays for what this module imports, ``kefu --version`` too: so it imports typer and nothing
heavy (pyarrow, numpy, the pipeline, ...; rich's console too is made when a command first prints through
it). Each command imports the library it calls in its body; ``tests/test_startup.py`` checks that the
heavy modules stay off this path.
"""

from __future__ import annotations

import inspect
import logging
import sys
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from kefu_corpus.errors import KefuError
from kefu_corpus.stage import Stage
from kefu_corpus.stages import registered, select
from kefu_corpus.text.repair_params import RepairParams

if TYPE_CHECKING:
    from kefu_corpus.config import Config
    from kefu_corpus.pipeline import RunResult

EXIT_ERROR, EXIT_REJECTED, EXIT_INTERRUPTED = 1, 3, 130


def _unwrap(text: str | None) -> str | None:
    """``text`` (a docstring) with each paragraph on one line, for the help to wrap at the terminal's width.

    Typer's rich help keeps a paragraph's single line breaks, so a docstring wrapped to fit the source
    would break mid-sentence on screen. A paragraph that starts with ``\\b`` keeps its lines (click's mark).
    """
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
                       for p in paragraphs)


class _Help:
    """How kefu's commands and the kefu group render their help (mixed into typer's own classes).

    A flag takes no value, so its row in the help shows no placeholder: typer's rich panels print a bool
    option's type (``<bool>``) as if it took one, the --help option's included. An empty metavar is
    what they print instead of the type; options that take a value keep theirs (``<path>``, ``<int>``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.help = _unwrap(self.help)

    def get_params(self, ctx):
        params = super().get_params(ctx)  # the --help option is made here, so it is set here too
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _Command(_Help, TyperCommand):
    pass


class _Group(_Help, TyperGroup):
    pass


class _Typer(typer.Typer):
    """A Typer whose commands are :class:`_Command` unless one says otherwise."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _Typer(
    name="kefu",
    cls=_Group,
    help="kefu-corpus: turn raw Chinese customer-service commentary into an analysable Parquet corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Console:
    """A rich console made when first used: importing rich's console takes about 20 ms, which the commands
    that write plain text (``tokenize``, ``convert``) never need."""

    def __init__(self, **options) -> None:
        self._options = options

    @cached_property
    def console(self):
        from rich.console import Console

        return Console(**self._options)

    def __getattr__(self, name: str):
        return getattr(self.console, name)


def _stdin_lines() -> Iterator[str]:
    """The lines of stdin as they come, line ends kept, decoded as UTF-8; a line that is not UTF-8 stops
    the command with a message that says how to give the text instead."""
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KefuError(f"stdin, line {number}: not UTF-8 (byte {exc.start + 1} of the line cannot be "
                            f"decoded).", hint="give the text as a FILE argument instead: a file's encoding "
                                               "(GBK, Big5, UTF-16, ...) is detected") from None


def _read_text(file: Path) -> str:
    """The text of ``file``, its encoding detected (:func:`kefu_corpus.text.decode.decode_bytes`); a file
    that cannot be read or decoded stops the command with a message naming it."""
    from kefu_corpus.text.decode import DecodeError, decode_bytes

    try:
        return decode_bytes(file.read_bytes(), name=str(file)).text
    except OSError as exc:
        raise KefuError(f"Cannot read {file}: {exc.strerror}.", hint="check the path") from exc
    except DecodeError as exc:
        raise KefuError(exc.message) from exc


def escape(markup: str) -> str:
    """``markup`` with rich's markup escaped (rich imported when needed)."""
    from rich.markup import escape as rich_escape

    return rich_escape(markup)


out_console = _Console(highlight=False, soft_wrap=True)
err_console = _Console(stderr=True, highlight=False, soft_wrap=True)  # a path in a message stays on one line
log = logging.getLogger("kefu_corpus")

# ---- shared options ----------------------------------------------------------------------------------

RawArg = typer.Argument(Path("data/raw"), help="Folder of article and corpus files, or one corpus file.")
OutOpt = typer.Option(Path("data/processed"), "--out", "-o", help="Output folder for the Parquet tables.")
ConfigOpt = typer.Option(None, "--config", "-c", help="TOML config file (default: ./kefu.toml if present).")
SetOpt = typer.Option(None, "--set", "-s", metavar="SECTION.KEY=VALUE",
                      help="Override one config key, e.g. --set ingest.max_passage_chars=800. Repeatable.")
WorkersOpt = typer.Option(None, "--workers", "-w", min=0, help="Worker processes (0: one per CPU). Overrides run.workers.")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Show progress details and every problem found.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
StrictOpt = typer.Option(False, "--strict", help="Exit with code 3 if any input was rejected.")


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the library's domain error into a readable message and exit code 1."""
    try:
        yield
    except KefuError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}")
        if exc.hint:
            err_console.print(f"  hint: {escape(exc.hint)}")
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        err_console.print("interrupted; outputs of earlier runs are untouched.")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _config(config_path: Optional[Path], sets: Optional[List[str]], **direct) -> Config:
    from kefu_corpus.config import load_config, parse_override

    config = load_config(config_path)
    overrides = dict(parse_override(s) for s in (sets or []))
    overrides.update({k: v for k, v in direct.items() if v is not None})
    return config.with_overrides(overrides)


class _BarProgress:
    """Adapts a rich progress bar to :class:`kefu_corpus.pipeline.Progress`."""

    def __init__(self) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                             console=err_console.console, transient=True)
        self._task = None

    def start(self, stage: str, total: int | None) -> None:
        """One row per stage (or pass): its own elapsed time, and an ETA when its total is known."""
        self._bar.start()
        self._task = self._bar.add_task(stage, total=total)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)

    def finish(self) -> None:
        if self._task is not None:  # the row goes: a finished stage's clock must not run on under the next
            self._bar.stop_task(self._task)
            self._bar.remove_task(self._task)
            self._task = None
        self._bar.stop()


def _print_summary(result: RunResult, raw: Path, verbose: bool) -> None:
    from kefu_corpus.schemas import DUPLICATE_KINDS

    counts = result.status_counts
    docs = result.tables.get("documents", 0)
    read = len(result.manifest.get("inputs", []))
    out_console.print(f"[bold]kefu[/] {escape(str(raw))} -> {escape(str(result.out))}")
    if "ingest" in result.stages:
        _print_ingest(result, counts, docs, read)
    norm = result.manifest.get("stages", {}).get("normalise") if "normalise" in result.stages else None
    if norm:
        out_console.print(f"  repaired {norm['repairs']} damaged run(s) in {norm['documents_with_sites'] or 0} "
                          f"document(s) with possible damage; see repairs.parquet")
    dd = result.manifest.get("stages", {}).get("dedup") if "dedup" in result.stages else None
    if dd:
        kinds = ", ".join(f"{dd[k]} {k}" for k in DUPLICATE_KINDS if dd.get(k))
        out_console.print(f"  dedup    {dd['passages_flagged']} of {dd['passages']} passage(s) flagged whole"
                          + (f"; {sum(dd.get(k, 0) for k in DUPLICATE_KINDS)} flagged span(s): {kinds}"
                             if kinds else "") + "; see duplicates.parquet")
    sg = result.manifest.get("stages", {}).get("segment") if "segment" in result.stages else None
    if sg:
        out_console.print(f"  segment  {sg['tokens']} token(s) from {sg['bytes'] / 1e3:,.1f} kB of canonical text"
                          + ("" if sg["include_duplicates"] else " (duplicates left out)"))
    tr = result.manifest.get("stages", {}).get("trends") if "trends" in result.stages else None
    if tr:
        years = ", ".join(f"{y}: {n}" for y, n in tr["years"].items())
        out_console.print(f"  trends   {tr['terms']} term(s) over documents per year ({years}); evidence {tr['evidence']}; "
                          f"keywords in keywords.parquet")
    tp = result.manifest.get("stages", {}).get("topics") if "topics" in result.stages else None
    if tp and tp.get("k"):
        out_console.print(f"  topics   {tp['engine']} with k={tp['k']} (NPMI {tp['coherence']:.3f}) over "
                          f"{tp['units']} {tp['unit']}(s); see topics.parquet, model in {tp['model']['file']}")
    files = ", ".join(f"{name}.parquet ({rows})" for name, rows in result.tables.items())
    out_console.print(f"  wrote    {files}, manifest.json", markup=False)
    rate = f" ({result.mb_per_s:.2f} MB/s)" if result.mb_per_s >= 0.1 else f" ({result.mb_per_s * 1e3:.1f} kB/s)"
    out_console.print(f"  took     {result.seconds:.2f} s" + (rate if result.bytes_in else ""))
    shown = result.problems if verbose else result.problems[:10]
    if "ingest" not in result.stages:
        return
    for row in shown:
        where = row["source_path"] + (f" {row['source_record']}" if row["source_record"] else "")
        colour = "red" if row["status"] == "rejected" else "yellow"
        out_console.print(f"  [{colour}]{row['status']}[/] {escape(where)}: {escape(row['message'] or '')}")
    if len(result.problems) > len(shown):
        out_console.print(f"  ... and {len(result.problems) - len(shown)} more: see ingest_report.parquet "
                          "or rerun with --verbose")


def _print_ingest(result: RunResult, counts: dict, docs: int, read: int) -> None:
    out_console.print(f"  read     {read} input(s), {result.bytes_in / 1e3:,.1f} kB"
                      + (f"; ignored {counts['ignored']} file(s)" if counts.get("ignored") else ""))
    out_console.print(f"  kept     {docs} document(s), {result.tables.get('passages', 0)} passage(s); "
                      f"separated {result.tables.get('boilerplate', 0)} boilerplate/metadata span(s)")
    out_console.print(f"  flagged  {counts.get('rejected', 0)} rejected, {counts.get('warning', 0)} warning(s), "
                      f"{counts.get('duplicate', 0)} duplicate input(s)")


def _run(command: str, stages: tuple[str, ...], raw: Path, out: Path, config_path, sets, workers,
         verbose: bool, quiet: bool, strict: bool) -> None:
    from kefu_corpus import pipeline

    _setup_logging(verbose, quiet)
    with _errors():
        config = _config(config_path, sets, **{"run.workers": workers})
        show_bar = not quiet and err_console.is_terminal
        result = pipeline.run(raw, out, config, stages=stages, command=command,
                              progress=_BarProgress() if show_bar else None)
    if not quiet and result.up_to_date:
        out_console.print(f"[bold]kefu[/] {escape(str(raw))} -> {escape(str(result.out))}: up to date, nothing to "
                          f"do (the run of {escape(str(result.manifest.get('started_at')))} had the same inputs, "
                          f"config and code; --force reruns). {result.seconds:.2f} s")
    elif not quiet:
        _print_summary(result, raw, verbose)
    if strict and result.rejected:
        raise typer.Exit(EXIT_REJECTED)


# ---- commands ----------------------------------------------------------------------------------------


@app.command()
def run(raw: Path = RawArg, out: Path = OutOpt, config: Optional[Path] = ConfigOpt,
        set_: Optional[List[str]] = SetOpt,
        workers: Optional[int] = WorkersOpt, verbose: bool = VerboseOpt, quiet: bool = QuietOpt,
        strict: bool = StrictOpt,
        no_wait: bool = typer.Option(False, "--no-wait", help="If another run is writing into --out, stop with "
                                     "exit 1 instead of waiting for it (run.wait_for_lock = false)."),
        executor: Optional[str] = typer.Option(None, "--executor", help="Where tasks run: local or dask "
                                               "(run.executor)."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. "
                                                "tcp://10.0.0.5:8786 (run.scheduler; empty: a local cluster)."),
        force: bool = typer.Option(False, "--force", help="Run even when --out already holds this run: same "
                                   "inputs, config and code, and compute every part again (run.skip_unchanged "
                                   "= false, run.reuse_parts = false)."),
        stages: Optional[str] = typer.Option(None, "--stages", metavar="NAME,NAME",
                                             help="Run only these stages, in pipeline order (e.g. normalise,dedup); "
                                             "the others' tables in --out are kept."),
        until: Optional[str] = typer.Option(None, "--until", metavar="NAME",
                                            help="Run the stages up to and including this one (e.g. segment).")
        ) -> None:
    """Run the whole pipeline on RAW, writing every table into --out.

    Stages: ingest, normalise, dedup, segment, trends, topics. --until and --stages run a prefix or a subset;
    each stage's input tables must come from an earlier stage of the run or from --out.
    """
    if no_wait:
        set_ = [*(set_ or []), "run.wait_for_lock=false"]
    if executor is not None:
        set_ = [*(set_ or []), f"run.executor={executor!r}"]
    if scheduler is not None:
        set_ = [*(set_ or []), f"run.scheduler={scheduler!r}"]
    if force:
        set_ = [*(set_ or []), "run.skip_unchanged=false", "run.reuse_parts=false"]
    with _errors():
        chosen = select(stages, until)
    _run("run", chosen, raw, out, config, set_, workers, verbose, quiet, strict)


def _stage_command(stage: Stage, into: typer.Typer | None = None) -> None:
    """Register ``kefu <stage>``, which runs one stage alone, from its declaration in the registry: ingest
    reads RAW; any other stage reads the tables of an earlier run in OUT and keeps the rest. A stage's
    ``options`` become flags that set its configuration keys."""
    extra = {_flag_name(flag): key for flag, key, _ in stage.options}

    def command(**given) -> None:
        sets = [*(given.pop("set_") or []), *(f"{key}={given.pop(name)}" for name, key in extra.items()
                                              if given.get(name) is not None)]
        raw = given.pop("raw", None)
        out = given.pop("out")
        _run(stage.name, (stage.name,), raw if raw is not None else out, out, given["config"], sets,
             given["workers"], given["verbose"], given["quiet"], given.get("strict", False))

    out_arg = typer.Argument(Path("data/processed"), help="Output folder of an earlier run.")
    params = ([("raw", Path, RawArg), ("out", Path, OutOpt)] if stage.reads_raw else [("out", Path, out_arg)])
    params += [("config", Optional[Path], ConfigOpt), ("set_", Optional[List[str]], SetOpt)]
    params += [(_flag_name(flag), Optional[str], typer.Option(None, flag, help=text)) for flag, _, text in stage.options]
    params += [("workers", Optional[int], WorkersOpt), ("verbose", bool, VerboseOpt), ("quiet", bool, QuietOpt)]
    if stage.reads_raw:
        params.append(("strict", bool, StrictOpt))
    command.__signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                                                 default=default, annotation=kind)
                                               for name, kind, default in params])
    command.__annotations__ = {name: kind for name, kind, _ in params}
    where, reads = ("RAW", "the raw files in RAW") if stage.reads_raw else ("OUT", ", ".join(stage.requires))
    if stage.optional:
        reads += f" ({', '.join(stage.optional)} too, when there is one)"
    writes = ", ".join(stage.assigns) or "files of its own"
    command.__doc__ = (f"Run the {stage.name} stage alone on {where}: {stage.summary[0].lower()}{stage.summary[1:]}"
                       f"\n\nReads {reads}; writes {writes}" + (" into --out." if stage.reads_raw else "."))
    (into or app).command(name=stage.name)(command)


def _flag_name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


for _stage in registered():
    _stage_command(_stage)


@app.command()
def kwic(term: str = typer.Argument(..., help="The word to look for, in either script."),
         out: Path = typer.Argument(Path("data/processed"), help="Output folder of a run."),
         window: int = typer.Option(12, "--window", "-w", min=1, help="Characters of context on each side."),
         include_duplicates: bool = typer.Option(False, "--include-duplicates",
                                                 help="Also search passages flagged as duplicates.")) -> None:
    """Keyword in context: every occurrence of TERM in the corpus, in the original script, with doc and year.

    A line per occurrence: doc_id, year, the context with the match in brackets, then the document's date
    (as precise as the source gives it) and title.
    """
    from kefu_corpus.analysis import kwic as find
    from kefu_corpus.store import read_manifest, run_folder

    with _errors():
        out = run_folder(out)
        canonical = read_manifest(out).get("config", {}).get("normalise", {}).get("canonical", "t2s")
        hits = find(out, term, window=window, canonical=canonical, include_duplicates=include_duplicates)
        for hit in hits:
            year = hit["year"] if hit["year"] is not None else "undated"
            context = f"{hit['left']:>{window}}[{hit['match']}]{hit['right']:<{window}}"
            date = _shown_date(hit["date"], hit["date_precision"])
            out_console.print(f"{hit['doc_id']} {year} {context}  {date:<10}  {hit['title'] or ''}".rstrip(),
                              markup=False, highlight=False)
        err_console.print(f"{len(hits)} occurrence(s) of {term}", markup=False)


def _shown_date(date, precision: Optional[str]) -> str:
    """A document's date as precise as its source: 2023-05-18, 2023-05 or 2023; empty when it has none."""
    if date is None:
        return ""
    return date.isoformat()[:{"year": 4, "month": 7}.get(precision, 10)]


@app.command()
def collocations(term: Optional[str] = typer.Argument(None, help="Only pairs with this word (either script)."),
                 out: Path = typer.Argument(Path("data/processed"), help="Output folder of a run."),
                 measure: str = typer.Option("g2", "--measure", "-m", help="Sort by 'g2' or 'pmi'."),
                 window: int = typer.Option(2, "--window", "-w", min=2,
                                            help="Pairs up to this many tokens apart, counting both (2: adjacent)."),
                 min_count: int = typer.Option(3, "--min-count", min=1, help="Least count of a pair."),
                 top: int = typer.Option(30, "--top", "-n", min=1, help="Pairs to print."),
                 display_script: Optional[str] = typer.Option(None, "--display-script",
                                                              help="Script of the printed words: simplified or "
                                                                   "traditional (default: the corpus's own majority "
                                                                   "script).")
                 ) -> None:
    """Collocations: word pairs that occur together more often than chance (G² or PMI), as tab-separated lines.

    A header line first, then one line per pair; with TERM, only the pairs that contain it.
    """
    from kefu_corpus.analysis import COLLOCATION_MEASURES, collocations as find
    from kefu_corpus.store import read_manifest, read_table, run_folder
    from kefu_corpus.text.convert import convert

    with _errors():
        out = run_folder(out)
        if measure not in COLLOCATION_MEASURES:
            raise KefuError(f"Unknown measure {measure!r}.", hint=f"use one of {', '.join(COLLOCATION_MEASURES)}")
        if display_script is None:
            display_script = read_manifest(out).get("display_script", "simplified")
        if display_script not in ("simplified", "traditional"):
            raise KefuError(f"Unknown display script {display_script!r}.", hint="use simplified or traditional")
        canonical = read_manifest(out).get("config", {}).get("normalise", {}).get("canonical", "t2s")
        query = None if term is None else convert(term, canonical).text
        if query is not None and query.isascii():
            query = query.upper()  # Latin tokens are counted upper-cased
        tokens = read_table(out, "tokens", columns=["passage_id", "position", "token", "token_type", "is_stopword"])
        table = find(tokens, term=query, window=window, min_count=min_count, measure=measure, top=top)
        from kefu_corpus.plots import shown_term, term_forms

        forms = term_forms(out, display_script)  # as the corpus writes them, else converted
        shown = (lambda w: shown_term(w, display_script, forms))
        write = sys.stdout.write  # tabs as they are (a console would expand them)
        write("first\tsecond\tcount\tcount_first\tcount_second\tpmi\tg2\tp_value\n")
        for row in table.to_pylist():
            write(f"{shown(row['first'])}\t{shown(row['second'])}\t{row['count']}\t{row['count_first']}\t"
                  f"{row['count_second']}\t{row['pmi']:.3f}\t{row['g2']:.3f}\t{row['p_value']:.3g}\n")
        err_console.print(f"{table.num_rows} pair(s) with count >= {min_count}"
                          + (f" containing {term}" if term else ""), markup=False)


@app.command()
def report(out: Path = typer.Argument(Path("data/processed"), help="Output folder of a run."),
           output: Optional[Path] = typer.Option(None, "--output", "-o",
                                                 help="HTML file to write (default: OUT/report.html)."),
           display_script: Optional[str] = typer.Option(None, "--display-script",
                                                        help="Script of the terms and metadata shown: simplified "
                                                             "or traditional (default: the corpus's own majority "
                                                             "script, as the manifest records it)."),
           static: bool = typer.Option(False, "--static", help="PNG charts instead of interactive ones (for print)."),
           max_terms: int = typer.Option(1500, "--max-terms", min=1,
                                         help="Terms in the term explorer: the most frequent."),
           max_rows: int = typer.Option(500, "--max-rows", min=1, help="Rows shown at most per table.")) -> None:
    """Write a self-contained HTML report of a run to explore offline: charts, a term explorer, tables.

    Sections: corpus, quality actions, term explorer, keywords, topics, trends and keyness."""
    from kefu_corpus.report import write_report

    with _errors():
        path = write_report(out, output or out / "report.html", display_script=display_script, static=static,
                            max_terms=max_terms, max_rows=max_rows)
    err_console.print(f"wrote {path}", markup=False)


@app.command()
def tokenize(file: Optional[Path] = typer.Argument(None, help="Text file in any common encoding; stdin when omitted."),
             config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
             pos: bool = typer.Option(False, "--pos", help="Print token/POS instead of tokens.")) -> None:
    """Segment text line by line: one line of space-separated tokens per input line.

    Tokens are in the input's own script, found with the project's normalisation, canonical conversion and
    dictionaries.
    """
    from kefu_corpus.stages.normalise import NormaliseParams
    from kefu_corpus.stages.segment import SegmentParams
    from kefu_corpus.text.segment import segmenter, tokenize_text

    with _errors():
        cfg = _config(config, set_)
        seg = segmenter(SegmentParams.from_config(cfg))
        options = NormaliseParams.from_config(cfg).normalize_options()
        if file is None:
            lines = (line.rstrip("\r\n") for line in _stdin_lines())
        else:
            lines = iter(_read_text(file).splitlines())
        write = sys.stdout.write
        for line in lines:
            spans = tokenize_text(line, seg, options)
            write(" ".join(line[a:b] + (f"/{tag}" if pos else "") for a, b, tag in spans) + "\n")


@app.command()
def repair(file: Path = typer.Argument(..., help="A text file in any common encoding."),
           report: Optional[Path] = typer.Option(None, "--report", help="Write every repair as JSON to this file."),
           train: Optional[List[Path]] = typer.Option(None, "--train", "-t",
                                                      help="Clean text files or folders (.txt, .md) the model also "
                                                           "learns from, e.g. the rest of the corpus. Repeatable."),
           min_gain: float = typer.Option(RepairParams.min_gain, "--min-gain", min=0.0,
                                          help="Nats a reading must gain over the damaged text to be accepted."),
           reference: str = typer.Option("auto", "--reference",
                                         help="When the model also learns from general written Chinese (People's "
                                              "Daily, January 1998): 'auto' (when it makes held-out text of FILE "
                                              "and --train more probable), 'always' or 'never'.")) -> None:
    """Repair misaligned-GBK mojibake in FILE: repaired UTF-8 text to stdout, a summary to stderr.

    The model learns from FILE's own undamaged text, any --train text, a reference text of general
    Chinese and jieba's dictionary; more clean text from the same field gives better repairs.
    Undamaged text comes out unchanged.
    """
    from dataclasses import asdict

    from kefu_corpus.text.reference_choice import MODES
    from kefu_corpus.text.repair import REVIEW_CONFIDENCE, clean_text, corpus_model, find_sites
    from kefu_corpus.text.repair import repair as repair_text
    from kefu_corpus.store import write_json_atomic

    with _errors():
        if reference not in MODES:
            raise KefuError(f"Unknown --reference {reference!r}.", hint=f"use one of {', '.join(MODES)}")
        text = _read_text(file)
        texts = [clean_text(text)] + [clean_text(t) for t in _read_texts(train or [])]
        sites = len(find_sites(text))
        use_reference, test, model = False, None, None
        if sites:  # text without a possible site needs no model
            model, use_reference, test = corpus_model(texts, reference)
        result = repair_text(text, model, RepairParams(min_gain=min_gain))
        sys.stdout.write(result.text)
        sys.stdout.flush()
        err_console.print(f"{file}: {len(result.repairs)} run(s) repaired of {sites} possible site(s)", markup=False)
        if sites:
            err_console.print(f"  model: {sum(map(len, texts)):,} characters of clean text"
                              + (" and the reference text" if use_reference else "")
                              + (f" ({test.describe()})" if test else ""),
                              markup=False)
        for r in result.repairs:
            err_console.print(f"  {r.start}-{r.end}: {r.damaged!r} -> {r.repaired!r} "
                              f"(confidence {r.confidence:.2f})", markup=False)
        doubtful = sum(r.confidence < REVIEW_CONFIDENCE for r in result.repairs)
        if doubtful:
            err_console.print(f"  {doubtful} repair(s) with confidence under {REVIEW_CONFIDENCE}: worth a look by hand",
                              markup=False)
        if report is not None:
            write_json_atomic(report, {"file": str(file), "sites": sites, "reference": use_reference,
                                       "reference_test": asdict(test) if test else None, "repairs": [
                {"start": r.start, "end": r.end, "damaged": r.damaged, "repaired": r.repaired,
                 "confidence": r.confidence, "gain": r.gain, "method": r.method} for r in result.repairs]})


def _read_texts(paths: List[Path]) -> list[str]:
    from kefu_corpus.text.decode import DecodeError, decode_bytes

    texts = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".md")) if path.is_dir() else [path]
        if not path.exists():
            raise KefuError(f"--train {path} does not exist.", hint="give a text file or a folder of them")
        for f in files:
            try:
                texts.append(decode_bytes(f.read_bytes(), name=str(f)).text)
            except (OSError, DecodeError) as exc:
                log.warning("--train: skipped %s (%s)", f, getattr(exc, "message", exc))
    return texts


@app.command()
def info(out: Path = typer.Argument(Path("data/processed"), help="Output folder of a run."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """Show what an output folder holds: tables, row counts, the run's config and versions."""
    import json

    from rich.table import Table

    from kefu_corpus.config import Config
    from kefu_corpus.info import describe

    with _errors():
        described = describe(out)
    if as_json:
        out_console.print_json(json.dumps(described, ensure_ascii=False, default=str))
        return
    table = Table(title=escape(str(out)), title_justify="left")
    for col in ("table", "rows", "size", "schema"):
        table.add_column(col, justify="right" if col != "table" else "left")
    for t in described["tables"]:
        schema = f"v{t['schema_version']}" + ("" if t["schema_version"] == t["current_version"]
                                               else f" (current v{t['current_version']})")
        parts = f" in {t['parts']} parts" if t.get("parts") else ""
        table.add_row(t["table"], f"{t['rows']:,}", f"{t['bytes'] / 1e3:,.1f} kB{parts}", schema)
    out_console.print(table)
    run_info = described["run"]
    out_console.print(f"run: kefu {run_info.get('kefu_corpus')} `{run_info.get('command')}` on {run_info.get('raw')} "
                      f"at {run_info.get('started_at')}, {run_info.get('n_inputs')} input file(s), "
                      f"{run_info.get('seconds')} s, seed {run_info.get('seed')}", markup=False)
    out_console.print("versions: " + ", ".join(f"{k} {v}" for k, v in run_info.get("versions", {}).items()))
    out_console.print(f"config ({run_info.get('config_source')}):")
    out_console.print(Config.from_mapping(run_info.get("config", {})).to_toml().rstrip(), markup=False)
    for warning in described["warnings"]:
        out_console.print(f"[yellow]warning:[/] {escape(warning)}")


@app.command()
def convert(file: Optional[Path] = typer.Argument(None, help="Text file in any common encoding; stdin when omitted."),
            opencc: Optional[str] = typer.Option(None, "--opencc", help="OpenCC config: t2s (the default), s2t, "
                                                 "s2twp, tw2sp, s2hk, t2jp, ..."),
            old_name: Optional[str] = typer.Option(None, "--config", "-c", hidden=True,
                                                   help="The old name of --opencc (deprecated)."),
            list_configs: bool = typer.Option(False, "--list", help="List the OpenCC configs and exit.")) -> None:
    """Convert Chinese text between scripts with OpenCC, like OpenCC's own CLI."""
    from kefu_corpus.text.convert import available_configs, converter

    if old_name is not None:  # --config is a TOML file in every other command
        if opencc is not None:
            raise typer.BadParameter("give --opencc alone (--config is its old name)", param_hint="'--config'")
        err_console.print(f"note: `kefu convert --config` is deprecated; use --opencc {old_name}", markup=False)
    opencc_config = opencc or old_name or "t2s"
    if list_configs:
        out_console.print("\n".join(available_configs()), markup=False)
        return
    with _errors():
        conv = converter(opencc_config)
        if file is None:
            for line in _stdin_lines():  # OpenCC phrases never span a newline: stream line by line
                sys.stdout.write(conv.convert(line))
            return
        sys.stdout.write(conv.convert(_read_text(file)))


@app.command("config")
def show_config(config: Optional[Path] = ConfigOpt,
                set_: Optional[List[str]] = SetOpt,
                reference: bool = typer.Option(False, "--reference", help="Print every key as a Markdown table.")) -> None:
    """Print the effective configuration as TOML (a starting point for kefu.toml)."""
    from kefu_corpus.config import config_reference_markdown

    if reference:
        out_console.print(config_reference_markdown(), markup=False)
        return
    with _errors():
        out_console.print(_config(config, set_).to_toml().rstrip(), markup=False)


@app.command()
def schema(table: Optional[str] = typer.Argument(None, help="One table name; all tables when omitted.")) -> None:
    """Print the documented schema of the output tables (Markdown)."""
    from kefu_corpus import schemas

    with _errors():
        if table is not None and table not in schemas.TABLES:
            raise KefuError(f"No table named '{table}'.", hint=f"tables: {', '.join(schemas.TABLES)}")
        names = [table] if table else list(schemas.TABLES)
        out_console.print("\n\n".join(schemas.schema_markdown(schemas.TABLES[n]) for n in names), markup=False)


def _print_version(value: bool) -> None:
    """``--version``: eager, so it runs (and exits) before the other options are processed."""
    if value:
        from kefu_corpus import __version__

        out_console.print(f"kefu-corpus {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass  # the group's options: --version is done in its callback


def main() -> None:
    app()
