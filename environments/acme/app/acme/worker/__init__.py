"""Background job runner: emails, receipts, search indexing and housekeeping."""

from acme.worker.app import create_app

__all__ = ["create_app"]
