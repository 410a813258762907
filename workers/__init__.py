"""Celery only: the app, the tasks (plumbing that calls `services`) and the beat scheduler.
Imports `services` (and below); never the web edges."""
