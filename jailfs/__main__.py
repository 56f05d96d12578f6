"""python -m jailfs: the jailfs command."""

import sys

from jailfs.ops.command import main

sys.exit(main())
