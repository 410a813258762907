"""seatflow's domain: the Organization aggregate, pricing, upgrades, licenses and their rules.
Plain Python: imports only the standard library."""
