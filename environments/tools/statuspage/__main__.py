"""``python -m environments.tools.statuspage --port N --state-dir DIR [--fixtures F ...] [--seed N]``."""

import sys

from environments.tools.common.cli import main
from environments.tools.statuspage import create_app

if __name__ == "__main__":
    sys.exit(main("statuspage", create_app))
