"""The inbox: every Stripe event seatflow stores, from the receiver's insert to its last state.

- `events`: the event as the receiver and the worker parse it from its body (`IncomingEvent`)
- `states`: its states (`InboxState`), which are pending and which are done
- `origin`: whose events this service applies (`Origin`: one Stripe mode, one account)
- `table`: the one inbox table, on every table's metadata, and the row of a new event

Imported by the receiver (`webhooks`), which may import none of the business code, and by the
adapters and services; it imports only `config` (and SQLAlchemy Core, for its table).
"""
