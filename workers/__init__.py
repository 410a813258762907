"""Workers: Celery tasks, handlers, persistence, the Stripe gateway and the CLI."""
