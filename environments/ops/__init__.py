"""The run's ops service: the deployer, log search and fault injection (see host.py)."""
