"""``python -m acme.worker --host 127.0.0.1 --port 8004`` (the port serves /healthz and /metrics)."""

import sys

from acme.common.server import main
from acme.worker.app import create_app

sys.exit(main("worker", create_app))
