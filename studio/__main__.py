"""``python -m studio [FILE]``: the same as the ``strata`` command."""

import sys

from studio.cli import main

sys.exit(main())
