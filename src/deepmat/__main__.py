"""``python -m deepmat``: the ``deepmat`` command line (see :mod:`deepmat.cli`)."""

import sys

from deepmat.cli import main

if __name__ == "__main__":
    sys.exit(main())
