"""``python -m environments.tools.sentry --port N --state-dir DIR [--fixtures F ...] [--seed N]``."""

import sys

from environments.tools.common.cli import main
from environments.tools.sentry import create_app

if __name__ == "__main__":
    sys.exit(main("sentry", create_app))
