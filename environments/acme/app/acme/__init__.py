"""Acme Commerce monorepo: storefront, API, payments simulator, worker and ingress."""

__version__ = "2026.11.0"
