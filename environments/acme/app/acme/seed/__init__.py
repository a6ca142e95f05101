"""Deterministic seed data: ``python -m acme.seed --seed N``."""

from acme.seed.generator import ADMIN_EMAIL, ADMIN_PASSWORD, BASE_DATE, SEED_PASSWORD, generate
from acme.seed.loader import fingerprint, load

__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "BASE_DATE", "SEED_PASSWORD", "fingerprint", "generate", "load"]
