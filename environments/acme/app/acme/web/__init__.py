"""Server-rendered storefront and admin UI; a client of the API (``ACME_API_URL``)."""

from acme.web.app import create_app

__all__ = ["create_app"]
