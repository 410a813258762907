"""What the two web apps (the receiver and the API) share: request ids, request latency,
trusted hosts and proxies, and the health, readiness and metrics routes."""
