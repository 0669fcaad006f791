"""Scheduled jobs: the registry (`jobs.py`), the runner with its replica lease (`runner.py`), the
APScheduler service (`service.py`)."""
