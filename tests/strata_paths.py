"""Paths the tests share: the repository root and the example networks.

Importable from every test folder (``tests/`` is on ``sys.path`` through its conftest).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
