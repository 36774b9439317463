"""``python -m core.cli``: the same as the ``tousu`` command, through this interpreter."""

import sys

from core.cli import main

sys.exit(main())
