"""The command-line parser every ``strata`` subcommand in runtime uses.

argparse prints usage and exits on a bad argument; Strata's commands instead say what is
wrong in one line and return status 2, so ``Parser.error`` raises ``ArgumentError``
for the command's ``main`` to report.
"""

from __future__ import annotations

import argparse


class ArgumentError(Exception):
    """A bad command line, in argparse's words."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # raises instead of exiting
        raise ArgumentError(message)
