"""``python -m environments.tools.slack --port N --state-dir DIR [--fixtures F ...] [--seed N]``."""

import sys

from environments.tools.common.cli import main
from environments.tools.slack import create_app

if __name__ == "__main__":
    sys.exit(main("slack", create_app))
