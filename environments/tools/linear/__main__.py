"""``python -m environments.tools.linear --port N --state-dir DIR [--fixtures F ...] [--seed N]``."""

import sys

from environments.tools.common.cli import main
from environments.tools.linear import create_app

if __name__ == "__main__":
    sys.exit(main("linear", create_app))
