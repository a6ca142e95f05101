"""Data access: every SQL query the API issues lives in this package."""
