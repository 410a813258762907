"""seatflow's domain: plain Python, no I/O, no frameworks."""
