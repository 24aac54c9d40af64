"""``python -m bucket_brigade``: the ``bucket-brigade`` command."""

import sys

from bucket_brigade.cli import main

if __name__ == "__main__":
    sys.exit(main())
