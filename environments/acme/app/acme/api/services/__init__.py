"""Business logic. Services own transactions: they commit, routes never do."""
