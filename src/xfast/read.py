# SPDX-License-Identifier: Apache-2.0
"""python -m xfast.read LOGDIR: runs, tags, counts and last values; filters; exports."""

import sys

from xfast.reader.cli import main

if __name__ == "__main__":
    sys.exit(main())
