"""``python -m qgm.cli``."""
import sys

from qgm.cli import main

sys.exit(main())
