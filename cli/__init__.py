"""The `seatflow` command, one module per command group, the dev server and signed samples.
Imports `services` (and below); nothing imports it."""
