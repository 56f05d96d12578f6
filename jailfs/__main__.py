"""python -m jailfs: the jailfs command."""

import sys

from jailfs.cli.jailfs import main

sys.exit(main())
