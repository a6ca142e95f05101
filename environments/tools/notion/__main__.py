"""``python -m environments.tools.notion --port N --state-dir DIR [--fixtures F ...] [--seed N]``."""

import sys

from environments.tools.common.cli import main
from environments.tools.notion import create_app

if __name__ == "__main__":
    sys.exit(main("notion", create_app))
