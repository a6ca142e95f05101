"""The task suite's format (`task.yaml`), its loader, its setup on a live run and `tasks new`."""
