"""Task names: the contract between the receiver (which enqueues by name) and the workers."""

PROCESS_STRIPE_EVENT = "seatflow.process_stripe_event"
SWEEP_INBOX = "seatflow.sweep_inbox"
