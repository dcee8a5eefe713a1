"""Error types of the graph core.

Every failure a user can cause (a bad file, a bad parameter, a network that cannot be
compiled) surfaces as one of these, with a message written in the user's terms.
"""

from __future__ import annotations


class StrataError(Exception):
    """Base class of every error Strata raises on purpose."""


class StrataWarning(UserWarning):
    """Warnings Strata emits itself (tests turn them into errors)."""


class DocumentError(StrataError):
    """A network file or document dict is malformed.

    ``where`` is a JSON path such as ``$.nodes[3].params.out_features`` so the user
    can find the offending spot in the file.
    """

    def __init__(self, message: str, where: str = "$", path: str | None = None):
        self.message = message
        self.where = where
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        # "$" is the whole file: saying so adds nothing (e.g. "not valid JSON").
        where = f" (at {self.where})" if self.where != "$" else ""
        return f"{prefix}{self.message}{where}"


class ParamError(StrataError):
    """A parameter value was refused; the message says what was expected."""


class ShapeError(StrataError):
    """A layer cannot accept the shapes it receives.

    Raised by shape rules with a message in the layer's own terms and an optional hint
    (the fix a user would apply, e.g. "insert a Flatten").
    """

    def __init__(self, message: str, hint: str = ""):
        self.message = message
        self.hint = hint
        super().__init__(message)


class GraphError(StrataError):
    """The network cannot be compiled; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [p.describe() for p in self.problems if p.severity == "error"]
        super().__init__("the network has errors:\n" + "\n".join(lines))
