"""``strata check [--fix]`` and ``strata summary``: the graph core from a shell.

``main(argv)`` takes the subcommand as ``argv[0]``; ``studio/cli.py`` dispatches ``check``
and ``summary`` here (``strata export`` is ``runtime.transfer.cli``, the one export
service). Output is written for people and for tools that parse compiler messages::

    net.strata: node 'fc' (Linear): error: Linear 'fc' needs a flat input ... (hint: ...)

Exit codes: 0 success (warnings allowed), 1 the network has errors, 2 a file cannot be
read or written. Bad input prints one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from .analysis import Analyzer
from .document import Document
from .errors import DocumentError, StrataError
from .fileformat import load, save
from .problems import Problem

OK, ERRORS, UNREADABLE = 0, 1, 2


class CommandFailed(Exception):
    """Stop a command with one line on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except CommandFailed as e:
        print(e, file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `strata summary net.strata | head`
        return OK
    except Exception as e:
        if os.environ.get("STRATA_DEBUG"):
            raise
        print(f"strata {args.command}: internal error ({type(e).__name__}: {e}); "
              "please report it with the file (STRATA_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return ERRORS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strata", description="Strata's network tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="list a network's problems",
                           description="List every problem of each network. Exit 0 "
                           "when clean (warnings allowed), 1 on errors, 2 when a file "
                           "cannot be read.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a .strata network")
    check.add_argument("--fix", action="store_true",
                       help="first apply every obvious one-click fix (the Problems "
                       "panel's Fix buttons) and save the file; each is printed")
    check.set_defaults(run=run_check)

    summary = sub.add_parser("summary", help="layers, output shapes, parameters and MACs",
                             description="A table of the network's layers with output "
                             "shapes, parameter counts and multiply-accumulates per "
                             "example, and totals.")
    summary.add_argument("file", metavar="FILE", help="a .strata network")
    summary.set_defaults(run=run_summary)

    return parser


# ---------------------------------------------------------------------- commands
def run_check(args) -> int:
    worst = OK
    for file in args.files:
        try:
            doc = _load(file)
        except CommandFailed as e:
            print(e, file=sys.stderr)
            worst = max(worst, e.code)
            continue
        if args.fix:
            try:
                _fix(file, doc)
            except CommandFailed as e:
                print(e, file=sys.stderr)
                worst = max(worst, e.code)
                continue
        analysis = Analyzer().analyze(doc)
        for line in problem_lines(file, doc, analysis.problems):
            print(line)
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        if not analysis.problems:
            print(f"{file}: no problems ({_plural(len(doc.nodes), 'node')})")
        else:
            print(f"{file}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
        if errors:
            worst = max(worst, ERRORS)
    return worst


def run_summary(args) -> int:
    from .summary import summarize

    doc = _load(args.file)
    summary = summarize(doc)
    print(summary.table())
    return ERRORS if summary.errors else OK


def _fix(file: str, doc: Document) -> None:
    """Apply the obvious fixes to ``doc`` and save it over ``file`` (atomically)."""
    from .fixes import fix_all

    done = fix_all(doc)
    for title in done:
        print(f"{file}: fixed: {' '.join(title.splitlines())}")
    if not done:
        return
    try:
        save(doc, file)
    except OSError as e:
        raise CommandFailed(f"{file}: error: cannot save the fixes: {e.strerror or e}",
                            UNREADABLE) from None
    print(f"{file}: saved with {_plural(len(done), 'fix')}")


# ---------------------------------------------------------------------- helpers
def problem_lines(file: str, doc: Document, problems: list[Problem]) -> list[str]:
    """``FILE: node 'fc' (Linear): error: message (hint: ...)``, errors first."""
    ordered = sorted(problems, key=lambda p: not p.is_error)
    lines = []
    for p in ordered:
        where = ""
        node = doc.nodes.get(p.node_ids[0]) if p.node_ids else None
        if node is not None:
            where = f"node '{node.label or node.id}' ({node.spec.display_name}): "
        hint = f" (hint: {p.hint})" if p.hint else ""
        line = f"{file}: {where}{p.severity}: {p.message}{hint}"
        lines.append(" ".join(line.splitlines()))  # labels may hold line breaks
    return lines


def _load(file: str) -> Document:
    try:
        return load(file)
    except DocumentError as e:
        where = f" (at {e.where})" if e.where != "$" else ""
        raise CommandFailed(f"{file}: error: {e.message}{where}", UNREADABLE) from None
    except StrataError as e:  # pragma: no cover - load raises DocumentError only
        raise CommandFailed(f"{file}: error: {e}", UNREADABLE) from None


def _plural(n: int, word: str) -> str:
    plural = word + ("es" if word.endswith(("x", "s")) else "s")
    return f"{n} {word if n == 1 else plural}"


if __name__ == "__main__":
    sys.exit(main())
