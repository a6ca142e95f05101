"""The run's deployer: build, checks, migrate, canary with analysis, promote or roll back."""
