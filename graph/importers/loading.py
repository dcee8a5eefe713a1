"""Loading a user's Python file and building the network it describes.

``FILE.py:Name`` names a module class or a factory function in an ordinary Python file.
The file runs as its own module (with its folder on ``sys.path`` so sibling imports
work); every way this can fail - a syntax error, a missing import, an exception at import
time, a missing or wrong name, constructor arguments - becomes an ``ImportSourceError``
that names the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

from .problems import ImportSourceError


def split_target(spec: str) -> tuple[Path, str]:
    """``models/net.py:LeNet`` -> (path, "LeNet")."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise ImportSourceError(
            f"expected FILE.py:ClassName (e.g. model.py:LeNet), got {spec!r}")
    if not name.isidentifier():
        raise ImportSourceError(f"{path}: {name!r} is not a Python name")
    return Path(path), name


def load_source(path: str | Path):
    """Execute ``path`` as a fresh module and return it."""
    path = Path(path)
    if not path.is_file():
        raise ImportSourceError(f"{path}: no such file")
    if path.suffix != ".py":
        raise ImportSourceError(f"{path}: expected a Python file (.py)")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"strata_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None  # a .py path always has both
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    # Registered while it runs so dataclasses, pickling and relative lookups work.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(module_name, None)
        where = f"line {e.lineno}" + (f", column {e.offset}" if e.offset else "")
        raise ImportSourceError(f"{path}: syntax error at {where}: {e.msg}") from None
    except ImportError as e:
        sys.modules.pop(module_name, None)
        missing = f" (module '{e.name}')" if e.name else ""
        raise ImportSourceError(
            f"{path}: an import failed{missing}: {e}",
            "install the missing package in Strata's environment or fix the import",
        ) from None
    except Exception as e:  # noqa: BLE001 - user code may raise anything while loading
        sys.modules.pop(module_name, None)
        raise ImportSourceError(
            f"{path} raised {type(e).__name__} while loading"
            f"{_user_line(e, path)}: {e}") from None
    finally:
        if added:
            sys.path.remove(folder)
    return module


def build_module(path: str | Path, name: str, kwargs: dict[str, Any] | None = None):
    """Load ``path`` and instantiate ``name`` (a class or a factory) with ``kwargs``."""
    from torch import nn

    path = Path(path)
    source = load_source(path)
    target = getattr(source, name, None)
    if target is None:
        raise ImportSourceError(
            f"{path} has no class or function '{name}'",
            "it defines: " + (", ".join(_candidates(source)) or "no modules or functions"),
        )
    if not callable(target):
        raise ImportSourceError(f"{path}: '{name}' is a {type(target).__name__}, "
                                "not a module class or a function")
    kwargs = dict(kwargs or {})
    missing = _required_args(target, kwargs)
    if missing:
        raise ImportSourceError(
            f"{path}: {name}() needs arguments: {', '.join(missing)}",
            "give them as NAME=VALUE (--arg on the command line)",
        )
    try:
        module = target(**kwargs)
    except Exception as e:  # noqa: BLE001 - the user's constructor may raise anything
        raise ImportSourceError(
            f"{path}: {name}(...) raised {type(e).__name__}{_user_line(e, path)}: {e}"
        ) from None
    if not isinstance(module, nn.Module):
        raise ImportSourceError(
            f"{path}: {name}(...) returned a {type(module).__name__}, "
            "expected a torch.nn.Module")
    return module


def static_candidates(path: str | Path) -> list[str]:
    """Classes and functions ``path`` defines at top level, read without running it
    (``ast``): what an import dialog offers before the user presses Import. Classes
    with a base (``nn.Module`` or anything else) come first, then functions."""
    import ast

    path = Path(path)
    if not path.is_file():
        raise ImportSourceError(f"{path}: no such file")
    if path.suffix != ".py":
        raise ImportSourceError(f"{path}: expected a Python file (.py)")
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as e:
        where = f"line {e.lineno}" + (f", column {e.offset}" if e.offset else "")
        raise ImportSourceError(f"{path}: syntax error at {where}: {e.msg}") from None
    except (OSError, ValueError) as e:
        raise ImportSourceError(f"{path}: cannot be read: {e}") from None
    classes = [n.name for n in tree.body
               if isinstance(n, ast.ClassDef) and n.bases and not n.name.startswith("_")]
    functions = [n.name for n in tree.body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and not n.name.startswith("_")]
    return classes + functions


def candidates(path: str | Path) -> list[str]:
    """Module classes and functions defined in ``path`` (what an import dialog offers)."""
    return _candidates(load_source(path))


def _candidates(source) -> list[str]:
    from torch import nn

    names = []
    for key, value in vars(source).items():
        if key.startswith("_") or getattr(value, "__module__", None) != source.__name__:
            continue
        if inspect.isclass(value) and issubclass(value, nn.Module) or inspect.isfunction(value):
            names.append(key)
    return names


def _required_args(target, given: dict[str, Any]) -> list[str]:
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        p.name for p in sig.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in given
    ]


def _user_line(error: BaseException, path: Path) -> str:
    """`` at line 12`` when the error happened inside the user's file."""
    target = str(path.resolve())
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__)
             if str(Path(f.filename).resolve()) == target]
    return f" at line {lines[-1]}" if lines else ""
