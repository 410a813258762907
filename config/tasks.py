"""Task names: the contract between the receiver (which enqueues by name) and the workers."""

PROCESS_STRIPE_EVENT = "seatflow.process_stripe_event"
# The receiver sends the events of one group commit as one message (a list of ids).
PROCESS_STRIPE_EVENTS = "seatflow.process_stripe_events"
SWEEP_INBOX = "seatflow.sweep_inbox"
CHARGE_UPGRADE = "seatflow.charge_upgrade"
PUSH_UPGRADE = "seatflow.push_upgrade_to_stripe"
REFUND_UPGRADE = "seatflow.refund_upgrade"
PUSH_DEFAULT_CARD = "seatflow.push_default_card"
EXPIRE_UNPAID_UPGRADES = "seatflow.expire_unpaid_upgrades"
RESUME_UPGRADES = "seatflow.resume_upgrades"
PRUNE_INBOX = "seatflow.prune_inbox"
PRUNE_OFFLINE_ACTIVATIONS = "seatflow.prune_offline_activations"
RECONCILE = "seatflow.reconcile"
# Changes at renewal: Stripe's schedule made for a change, and released once it ended.
SCHEDULE_CHANGE = "seatflow.schedule_change"
RELEASE_SCHEDULE = "seatflow.release_schedule"
