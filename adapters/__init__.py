"""Everything that touches I/O: ORM tables and mapping, repositories (all SQL), the unit of
work, the Stripe gateway and event parsing, license signing, tokens, migrations. Imports
`domain` and `config` only."""
