"""The Web API methods, one module per family; importing this package registers them all."""

from environments.tools.slack.methods import chat, conversations, reactions, search, users
from environments.tools.slack.methods.base import METHODS, Call, Caller, Method

__all__ = [
    "METHODS",
    "Call",
    "Caller",
    "Method",
    "chat",
    "conversations",
    "reactions",
    "search",
    "users",
]
