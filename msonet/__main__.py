"""``python -m msonet`` runs the command line (the same as the ``msonet`` command)."""

import sys

from msonet.cli import main

sys.exit(main())
