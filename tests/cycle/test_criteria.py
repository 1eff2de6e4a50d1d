"""Score arithmetic, score parsing, the criteria file and each gate (pure functions)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from dvk.criteria import ASPECTS, default_text, load_text
from dvk.rules import parse_score_args
from dvk.scoring import EntryFacts, aggregate, evaluate, member_total, parse_score_value
from dvk.errors import InvalidInput

CRIT = load_text(default_text())
CODES = CRIT.codes


def sc(**kw):
    """Scores with every criterion at 8 unless given; 'na' → None."""
    out = {c: Fraction(8) for c in CODES}
    for k, v in kw.items():
        out[k] = None if v == "na" else Fraction(str(v))
    return out


def test_default_file_matches_the_seed_and_says_it_is_a_default():
    assert CODES == ["G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5", "S6"]
    assert sum(c.weight for c in CRIT.criteria) == 100
    assert all(c.weight == 8 for c in CRIT.criteria if c.group == "general")
    assert all(c.weight == 10 for c in CRIT.criteria if c.group == "specific")
    assert not any(c.allow_na for c in CRIT.criteria if c.group == "general")
    assert CRIT.pass_mark == 80 and CRIT.aggregation == "mean" and CRIT.min_members == 1
    assert "không quy định" in CRIT.text and "mặc định" in CRIT.note
    assert "217-QĐ/TW" in CRIT.criterion("S5").title
    assert "Hồ Chí Minh" in CRIT.criterion("G5").title
    assert [f.number for f in CRIT.fields] == [1, 2, 3, 4, 5]


def test_all_eights_is_exactly_the_pass_mark():
    assert member_total(sc(), CRIT) == 80


def test_member_total_formula():
    s = sc(G1=10, G2=10, G3=10, G4=10, G5=10, S1=5, S2=5, S3=5, S4=5, S5=5, S6=5)
    assert member_total(s, CRIT) == Fraction(40 + 30)


def test_na_is_left_out_and_the_rest_rescaled():
    s = sc(G1=10, G2=10, G3=10, G4=10, G5=10, S1=10, S2=10, S3=10, S4=10, S5=10, S6="na")
    assert member_total(s, CRIT) == 100
    s = sc(S1=0, S2="na", S3="na", S4="na", S5="na", S6="na")
    # 40 general points at 8/10 → 32, S1 0 of 10: 32 × 100 / 50
    assert member_total(s, CRIT) == Fraction(32 * 100, 50)


def test_mean_and_median_of_several_members():
    totals = [Fraction(70), Fraction(80), Fraction(99)]
    assert aggregate(totals, "mean") == Fraction(249, 3)
    assert aggregate(totals, "median") == 80
    assert aggregate([Fraction(70), Fraction(90)], "median") == 80
    assert aggregate([], "mean") is None


@given(st.lists(st.sampled_from([x / 2 for x in range(21)]), min_size=11, max_size=11))
def test_member_total_is_on_a_100_scale(values):
    s = {c: Fraction(str(v)) for c, v in zip(CODES, values)}
    t = member_total(s, CRIT)
    assert 0 <= t <= 100
    assert t == sum(Fraction(str(v)) / 10 * c.weight for v, c in zip(values, CRIT.criteria))


@pytest.mark.parametrize("raw,expected", [("8", 8), ("7,5", Fraction(15, 2)), ("7.5", Fraction(15, 2)),
                                          ("0", 0), ("10", 10), (" 9.0 ", 9), (7.499999999999, Fraction(15, 2))])
def test_parse_score_value_accepts(raw, expected):
    assert parse_score_value(raw, CRIT, "G1") == expected


@pytest.mark.parametrize("raw,code,fragment", [
    ("11", "G1", "ngoài thang 0–10"), ("-1", "S1", "ngoài thang"), ("7.55", "G1", "quá 1 chữ số"),
    ("abc", "G1", "không phải là số"), ("na", "G3", "không được chấm “không áp dụng”"), ("nan", "S1", "không phải"),
    ("inf", "S1", "không phải"), ("8", "X9", "không có trong bộ tiêu chí"),
])
def test_parse_score_value_refuses(raw, code, fragment):
    with pytest.raises(InvalidInput) as exc:
        parse_score_value(raw, CRIT, code)
    assert fragment in exc.value.message


def test_parse_score_args_collects_every_problem():
    with pytest.raises(InvalidInput) as exc:
        parse_score_args(["G1=11", "G2", "G3=na", "G1=8"], CRIT)
    text = "\n".join(exc.value.details)
    assert "ngoài thang" in text and "không có dạng MÃ=ĐIỂM" in text and "G3" in text
    assert "chưa chấm các tiêu chí" in text


def test_parse_score_args_lowercase_codes_and_na():
    vals = parse_score_args([f"{c.lower()}=9" for c in CODES[:-1]] + ["s6=NA"], CRIT)
    assert vals["S6"] is None and vals["G1"] == 9


def test_window_end_is_clipped_to_the_end_of_february():
    assert CRIT.window(2024) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert CRIT.window(2025) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert CRIT.recognition_day(2025) == dt.date(2025, 10, 15)


def test_load_text_reports_every_problem():
    bad = """
phase = "x"
[scoring]
aggregation = "mode"
pass_mark = 120
min_members = 0
[[criteria]]
code = "A"
weight = -1
[[criteria]]
code = "A"
weight = 2
"""
    with pytest.raises(InvalidInput) as exc:
        load_text(bad)
    text = "\n".join(exc.value.details)
    for frag in ("aggregation", "pass_mark", "min_members", "trọng số", "bị trùng"):
        assert frag in text
    with pytest.raises(InvalidInput):
        load_text("phase = ")


def facts(**kw):
    base = dict(entry_id="2024-001", year=2024, registered_on=dt.date(2024, 2, 10), sudden=False,
                report={k: "có" for k, _ in ASPECTS},
                confirmation={"committee": "Đảng ủy BV", "rejected": False, "reason": None},
                unit_committee="Đảng ủy BV", member_scores={"A": sc(G1=9)})
    base.update(kw)
    return EntryFacts(**base)


def gate(ev, code):
    return next(g for g in ev.gates if g.code == code)


def test_every_gate_passes_for_a_complete_entry():
    ev = evaluate(facts(), CRIT)
    assert ev.eligible and ev.reasons == []
    assert [g.code for g in ev.gates] == ["registration", "report", "confirmation", "scores", "pass_mark"]


def test_registration_gate():
    ev = evaluate(facts(registered_on=dt.date(2024, 3, 1)), CRIT)
    assert not gate(ev, "registration").ok and "ngoài thời hạn 01/02/2024–29/02/2024" in ev.reasons[0]
    assert gate(evaluate(facts(registered_on=dt.date(2024, 2, 29)), CRIT), "registration").ok
    assert not gate(evaluate(facts(registered_on=dt.date(2024, 1, 31)), CRIT), "registration").ok
    ev = evaluate(facts(registered_on=dt.date(2024, 7, 1), sudden=True), CRIT)
    assert gate(ev, "registration").ok and "đột xuất" in gate(ev, "registration").reason


def test_report_gate():
    assert "Chưa có báo cáo" in evaluate(facts(report=None), CRIT).reasons[0]
    rep = {k: "có" for k, _ in ASPECTS} | {"spread": "  ", "sustainability": None}
    ev = evaluate(facts(report=rep), CRIT)
    assert ev.reasons == ["Báo cáo thành tích còn thiếu: Tính lan tỏa, Sự bền vững."]


def test_confirmation_gate():
    assert "Chưa có xác nhận" in evaluate(facts(confirmation=None), CRIT).reasons[0]
    ev = evaluate(facts(confirmation={"committee": "Đảng ủy BV", "rejected": True, "reason": "chưa lan tỏa"}), CRIT)
    assert "không xác nhận: chưa lan tỏa" in ev.reasons[0]
    ev = evaluate(facts(confirmation={"committee": "Chi bộ khoa", "rejected": False}), CRIT)
    assert "không phải cấp ủy cùng cấp" in ev.reasons[0]
    ev = evaluate(facts(confirmation={"committee": "đảng ủy  bv", "rejected": False}), CRIT)
    assert ev.eligible  # case and spacing do not matter


def test_scores_and_pass_mark_gates():
    ev = evaluate(facts(member_scores={}), CRIT)
    assert [g.code for g in ev.gates if not g.ok] == ["scores", "pass_mark"]
    ev = evaluate(facts(member_scores={"A": sc(G1=7)}), CRIT)
    assert [g.code for g in ev.gates if not g.ok] == ["pass_mark"]
    assert "thấp hơn điểm đạt 80" in ev.reasons[0]
    ev = evaluate(facts(member_scores={"A": sc()}), CRIT)
    assert ev.eligible and ev.score == 80


def test_min_members_and_median_from_the_file():
    text = default_text().replace("min_members = 1", "min_members = 3").replace(
        'aggregation = "mean"', 'aggregation = "median"')
    crit = load_text(text)
    ev = evaluate(facts(member_scores={"A": sc(), "B": sc()}), crit)
    assert "cần ít nhất 3" in ev.reasons[0]
    ev = evaluate(facts(member_scores={"A": sc(G1=0), "B": sc(), "C": sc(G1=10)}), crit)
    assert ev.score == 80 and ev.eligible
