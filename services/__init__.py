"""Use cases, one function per command: (command, unit of work, deps) -> result. Imports
`domain` and `adapters` (and `config`); never Flask, Celery tasks or the web edges."""
