"""The inbox: every Stripe event seatflow stores, from the receiver's insert to its last state.

Imported by the receiver (`webhooks`), which may import nothing of the business code, and by
the adapters; it imports only `config`.
"""
