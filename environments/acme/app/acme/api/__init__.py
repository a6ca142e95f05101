"""The Acme JSON REST API (``/api/v1``)."""

from acme.api.app import create_app

__all__ = ["create_app"]
