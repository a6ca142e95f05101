"""Tokenisation and document building shared by the API search and the indexer job."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded.lower()


def tokens(text: str) -> list[str]:
    """Lower-cased ASCII word tokens without stopwords, in order, de-duplicated."""
    seen: dict[str, None] = {}
    for tok in _TOKEN.findall(normalise(text)):
        if tok not in STOPWORDS:
            seen.setdefault(tok, None)
    return list(seen)


def build_document(name: str, category: str, description: str, sku: str) -> str:
    """The indexed text: name and category first so prefix matches on them rank well."""
    return " ".join(tokens(f"{name} {category} {sku} {description}"))


def boost_for(rating_avg: float, rating_count: int) -> float:
    """Popularity prior used by the ``relevance`` ranking: well-reviewed items float up."""
    return round(rating_avg * min(rating_count, 50) / 50.0, 4)
