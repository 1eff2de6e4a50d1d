from conftest import FULL, ledger_dump


def test_full_entry_is_recognized(ledger, full_entry):
    res = ledger("check", full_entry, "--json")
    import json

    data = json.loads(res.stdout)
    assert data["eligible"] is True
    before = ledger_dump(ledger.db)
    ledger.fails("score", full_entry, "--member", "X", *FULL[:-1])
    assert ledger_dump(ledger.db) == before
