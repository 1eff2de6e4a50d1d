"""Bulk intake (nhập hàng loạt): the files the units send in, and the forms dvk sends out.

- `tables/` — reading .xlsx/.csv/.json streamed and bounded (`read_table`), writing rejects files;
- `columns`, `cells` — the columns of each kind and the coercion of a cell to a value;
- `engine` — the loop every kind shares; `registrations`, `reports`, `confirmations`, `scores` — one
  module per kind of file, each checking its rows with the one rule set (`dvk.rules`);
- `run` — `run_import`: plan without the write lock, write the plan under it, the rejects file;
- `result` — what was asked and what happened; `units` — the unit list; `forms` — forms out.
"""
