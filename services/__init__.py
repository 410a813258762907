"""Use cases, one function per command: (command, unit of work, deps) -> result. Imports
`domain` (its ports: the unit of work, the gateway, the signer, the clock), the `inbox`
states and `config`; never an adapter, Flask, Celery tasks or the web edges."""
