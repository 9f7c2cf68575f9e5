"""``python -m mynacard``: the same command line as the ``mynacard`` script."""

import sys

from mynacard.tools.cli import main

sys.exit(main())
