"""The upgrade saga, one module a part, no re-exports:

- `steps`: what the parts share (lock an upgrade with its organization, apply a paid one,
  verify a payment as the upgrade's own, give money back); imports no sibling;
- `promotion`: Stripe's promotion codes in the discount field, read before any lock (seatflow's
  own code of the same text wins); imports no sibling;
- `request`: estimate, submit, cancel;
- `charge`: charge (invoice recorded, then paid), pay again, resume what was lost;
- `payment`: Stripe's answers (paid, failed, action required), the push of the applied change
  to Stripe, expiry of unpaid upgrades, renewals.
"""
