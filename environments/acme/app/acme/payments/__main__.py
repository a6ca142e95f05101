"""``python -m acme.payments --host 127.0.0.1 --port 8003``"""

import sys

from acme.common.server import main
from acme.payments.app import create_app

sys.exit(main("payments", create_app))
