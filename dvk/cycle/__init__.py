"""The yearly cycle (chu kỳ hằng năm), as operations on an open ledger: each takes a read connection
or a write transaction (`dvk.ledger.history.Tx`), checks its rules and raises typed errors
(`dvk.errors`) with Vietnamese messages; the CLI, bulk intake and the demo all call these.

- `common` — the domain's words, the year range, one check of a text value;
- `config` — the profile and the criteria set in force for a year; `setup` — `init`, changing them;
- `units` — member units (and the units a decision was made with);
- `entries` — registrations; `evidence` — reports, confirmations, score sheets;
- `decisions` — the decision in force and its lock; `recognition` — deciding and revoking;
- `year` — reading and judging a whole year, streamed; `status` — progress of a year.
"""
