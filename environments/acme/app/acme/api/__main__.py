"""``python -m acme.api --host 127.0.0.1 --port 8001``"""

import sys

from acme.api.app import create_app
from acme.common.server import main

sys.exit(main("api", create_app))
