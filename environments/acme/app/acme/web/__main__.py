"""``python -m acme.web --host 127.0.0.1 --port 8002``"""

import sys

from acme.common.server import main
from acme.web.app import create_app

sys.exit(main("web", create_app))
