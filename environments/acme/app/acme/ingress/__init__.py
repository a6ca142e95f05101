"""The edge reverse proxy: routes /api to API instances and everything else to web."""

from acme.ingress.app import create_app

__all__ = ["create_app"]
