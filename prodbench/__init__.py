"""prodbench: the CLI and the harness (sessions, suite runner, agent adapters)."""

__version__ = "0.1.0"
