"""Runtimes start a stack spec: `local` (processes on loopback, the default) and later `docker`."""
