"""Acme's operations: its alert rules (alerts.yml, rendered by rules.py) and their tests."""
