"""Reserved: see README.md in this folder."""
