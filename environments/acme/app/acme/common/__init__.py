"""Shared building blocks used by every Acme service (config, logging, metrics, storage)."""
