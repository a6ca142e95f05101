"""``python -m acme.ingress --host 127.0.0.1 --port 8000``"""

import sys

from acme.common.server import main
from acme.ingress.app import create_app

sys.exit(main("ingress", create_app))
