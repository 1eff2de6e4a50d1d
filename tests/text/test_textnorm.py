"""Tests for dvk.text.normalize: NFC, cleaning, duplicate folding and Vietnamese collation."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvk.text.normalize import clean, fold, nfc, person_key, sort_people, sort_vi, vi_key

try:  # PyICU is an optional oracle, not a dependency of the project.
    import icu  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    icu = None

needs_icu = pytest.mark.skipif(icu is None, reason="PyICU not installed (optional oracle)")


def NFD(s: str) -> str:
    return unicodedata.normalize("NFD", s)


TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng (ICU order)
VOWELS = "aăâeêioôơuưy"
ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"  # the 29 letters
VI_CHARS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in VOWELS for t in ("", *TONES)}
    | set("bcdđghklmnpqrstvx")
)
VI_CHARS += [c.upper() for c in VI_CHARS]

vi_text = st.text(alphabet=st.sampled_from(VI_CHARS + [" ", "\t", "\u00a0", "-", "."]),
                  max_size=24)
any_text = st.text(max_size=30)


# --------------------------------------------------------------------------- nfc / clean


def test_nfc_composes_decomposed_text():
    s = "Nguyễn Thị Thuỷ"
    assert NFD(s) != s
    assert nfc(NFD(s)) == s
    assert nfc("  a  ") == "  a  "  # nfc only normalises


@given(any_text)
def test_nfc_idempotent_and_normalised(s):
    once = nfc(s)
    assert nfc(once) == once
    assert unicodedata.is_normalized("NFC", once)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", ""),
        ("   ", ""),
        ("\t\u00a0\n", ""),
        ("  Nguyễn   Văn\tAn  ", "Nguyễn Văn An"),
        ("Trần\u00a0Thị\u2003Ánh", "Trần Thị Ánh"),
        (NFD("  Lê  Bình "), "Lê Bình"),
        ("Hoà\u200bBình\ufeff", "HoàBình"),
        ("Dòng 1\r\nDòng 2", "Dòng 1 Dòng 2"),
        ("B¶o Th¾ng\xad", "B¶o Th¾ng\xad"),  # TCVN3 bytes stay for the legacy decoder
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected


@given(any_text)
def test_clean_properties(s):
    c = clean(s)
    assert clean(c) == c
    assert unicodedata.is_normalized("NFC", c)
    assert c == c.strip()
    assert "  " not in c and "\t" not in c and "\u00a0" not in c and "\n" not in c
    assert clean(NFD(s)) == c


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hoà", "hòa"),
        ("Hoá", "Hóa"),
        ("thuỷ", "thủy"),
        ("Thuỷ", "THỦY"),
        ("khoẻ", "khỏe"),
        ("uỷ ban", "ủy ban"),
        ("Uỷ ban nhân dân", "ỦY  BAN\u00a0NHÂN DÂN "),
        ("quý", "qúy"),
        ("Quỳnh", "qùynh"),
        ("già", "gìa"),
        ("giữa", "gĩưa"),
        ("ngoài", "ngòai"),
        ("xoáy", "xóay"),
        ("khuỷu", "khủyu"),
        ("hoàng", "hòang"),
        ("toán", "tóan"),
        ("quyển", "qủyên"),
        ("Nguyễn Thị Hoà", NFD("nguyễn thị hòa")),
        ("Lê Thuỵ", "lê thụy"),
        ("Hoạ sĩ", "Họa sĩ"),
        ("Công đoàn cơ sở", "CÔNG ĐÒAN CƠ SỞ"),
    ],
)
def test_fold_equal(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bình", "Binh"),
        ("Đông", "Dong"),
        ("Đông", "Đồng"),
        ("Mỹ", "Mĩ"),  # y/i spellings are not folded
        ("Lý", "Lí"),
        ("Hòa", "Hóa"),
        ("Hoà", "Hoa"),
        ("Ân", "Ăn"),
        ("Ơn", "On"),
        ("Ưng", "Ung"),
        ("Văn An", "VănAn"),
    ],
)
def test_fold_keeps_letters_and_tones(a, b):
    assert fold(a) != fold(b)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hòa", "hoà"),  # new style: tone on the main vowel
        ("thủy", "thuỷ"),
        ("khỏe", "khoẻ"),
        ("qúy", "quý"),
        ("qụa", "quạ"),  # qu + a: the u belongs to the consonant
        ("qủa", "quả"),
        ("Qúa", "quá"),
        ("gìn", "gìn"),  # gi + n: the i is the vowel
        ("gịa", "giạ"),
        ("mùa", "mùa"),
        ("mía", "mía"),
        ("cứu", "cứu"),
        ("rựơu", "rượu"),
        ("thuở", "thuở"),
        ("ngoẹo", "ngoẹo"),
        ("hòan", "hoàn"),
        ("xóong", "xoóng"),  # with a final consonant: the last vowel
        ("tuần", "tuần"),
        ("  Café   Phố ", "café phố"),  # not a Vietnamese syllable: left alone
        ("K'Ngòa", "k'ngoà"),
        ("ABC123 xyz", "abc123 xyz"),
    ],
)
def test_fold_result(raw, expected):
    assert fold(raw) == expected


INITIALS = ["", "b", "ch", "đ", "gh", "gi", "h", "kh", "l", "ng", "ngh", "nh", "qu", "th", "tr", "x"]
# (nucleus, allowed finals) -- real Vietnamese rhymes, including the ones whose
# tone moves between the old and the new style.
RHYMES = [
    ("a", ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]), ("e", ["", "n", "t"]),
    ("i", ["", "n", "nh"]), ("y", [""]), ("u", ["", "ng", "t"]), ("ư", ["", "ng", "c"]),
    ("ai", [""]), ("ao", [""]), ("au", [""]), ("ay", [""]), ("eo", [""]), ("ia", [""]),
    ("iu", [""]), ("oi", [""]), ("ua", [""]), ("ui", [""]), ("ưa", [""]), ("ưu", [""]),
    ("oa", ["", "n", "ng", "nh", "t", "c"]), ("oe", ["", "n", "t"]), ("uy", ["", "n", "nh", "t"]),
    ("uê", ["", "nh"]), ("iê", ["n", "ng", "t", "c", "m", "p"]), ("uô", ["n", "ng", "c", "t", "m"]),
    ("ươ", ["n", "ng", "c", "t", "m", "p"]), ("oai", [""]), ("oay", [""]), ("uôi", [""]),
    ("ươi", [""]), ("ươu", [""]), ("iêu", [""]), ("uya", [""]), ("uyu", [""]), ("oeo", [""]),
    ("uyê", ["n", "t"]), ("oă", ["n", "ng", "c", "t"]), ("uâ", ["n", "t", "y"]),
]


@st.composite
def syllables(draw):
    """A Vietnamese syllable and every spelling of it with the tone on one of its vowels."""
    initial = draw(st.sampled_from(INITIALS))
    nucleus, finals = draw(st.sampled_from(RHYMES))
    final = draw(st.sampled_from(finals))
    if (initial, nucleus[0]) in (("gi", "i"), ("qu", "u")):
        initial = "th"  # "gii…", "quu…" are not syllables
    tone = draw(st.sampled_from(TONES))
    base = initial + nucleus + final
    spots = [i for i, ch in enumerate(base) if ch in VOWELS]
    spellings = [unicodedata.normalize("NFC", base[: i + 1] + tone + base[i + 1:]) for i in spots]
    return spellings


@given(syllables(), st.booleans(), st.booleans())
def test_fold_ignores_tone_placement(spellings, upper, decomposed):
    keys = set()
    for s in spellings:
        if upper:
            s = s.upper()
        if decomposed:
            s = NFD(s)
        keys.add(fold(s))
    assert len(keys) == 1
    (key,) = keys
    # exactly one tone survives, and the key still reads as the syllable
    assert sum(1 for ch in NFD(key) if ch in TONES) == 1


@given(vi_text)
def test_fold_idempotent_and_nfd_invariant(s):
    f = fold(s)
    assert fold(f) == f
    assert fold(NFD(s)) == f
    assert fold(s.upper()) == f
    assert unicodedata.is_normalized("NFC", f)
    assert f == f.strip() and "  " not in f


@given(any_text)
def test_fold_idempotent_any_text(s):
    f = fold(s)
    assert fold(f) == f
    assert fold(NFD(s)) == f


# The fast fold (tokens whose tone cannot move skipped, a C-level token cache) against the
# reference definition it replaced: every letter run of every token through the syllable rule.
fold_chars = st.sampled_from(VI_CHARS + [" ", "\t", "\u00a0", "\u200b", "-", ".", "_", "1", "9", "\u0301",
                                         "\u0300", "\u0323", "\u031b", "ß", "İ", "ﬁ", "Σ", "ς", "q", "Q", "w", "f"])


@settings(max_examples=500)
@given(st.text(alphabet=fold_chars, max_size=40), st.booleans())
def test_fold_equals_reference_vietnamese(s, decomposed):
    from dvk.text.normalize import _fold_reference, fold_clean

    if decomposed:
        s = NFD(s)
    assert fold(s) == _fold_reference(s)
    assert fold_clean(clean(s)) == _fold_reference(s)


@settings(max_examples=300)
@given(any_text)
def test_fold_equals_reference_any_text(s):
    from dvk.text.normalize import _fold_reference

    assert fold(s) == _fold_reference(s)


def test_fold_equals_reference_every_two_letter_cluster():
    """Every pair and triple of Vietnamese letters (any tone, any case), alone and in a word."""
    from dvk.text.normalize import _fold_reference

    letters = sorted(set(VI_CHARS))
    for a in letters:
        for b in letters:
            for s in (a + b, "ng" + a + b, "qu" + a + b + "n", "gi" + a + b, a + b + "nh"):
                assert fold(s) == _fold_reference(s), s


def strip_tones(s: str) -> str:
    return unicodedata.normalize("NFC", "".join(ch for ch in NFD(s) if ch not in TONES))


@given(vi_text)
def test_fold_only_moves_tones(s):
    """Folding never changes letters, only case, spacing and where the tone sits."""
    assert strip_tones(fold(s)) == strip_tones(clean(s).casefold())
    assert sorted(ch for ch in NFD(fold(s)) if ch in TONES) == sorted(
        ch for ch in NFD(s) if ch in TONES
    )


# --------------------------------------------------------------------------- vi_key


REQUIRED_ORDER = ["An", "Anh", "Ánh", "Ăn", "Ân", "Bình", "Dung", "Đông"]


def test_required_order_chain():
    shuffled = REQUIRED_ORDER[:]
    for seed in range(20):
        random.Random(seed).shuffle(shuffled)
        assert sort_vi(shuffled) == REQUIRED_ORDER
    for a, b in zip(REQUIRED_ORDER, REQUIRED_ORDER[1:]):
        assert vi_key(a) < vi_key(b)
        assert vi_key(NFD(a)) < vi_key(NFD(b))


def test_python_default_order_is_wrong_and_ours_is_not():
    assert sorted(REQUIRED_ORDER) != REQUIRED_ORDER


def test_alphabet_order():
    letters = list(ALPHABET)
    assert sort_vi(reversed(letters)) == letters
    assert sort_vi([c.upper() for c in reversed(letters)]) == [c.upper() for c in letters]
    # Letters decide before tones: any toned a/ă sorts before a plain ă/â.
    assert vi_key("ạ") < vi_key("ă") < vi_key("ặ") < vi_key("â")
    assert vi_key("dz") < vi_key("đa")
    assert vi_key("uz") < vi_key("ưa")
    assert vi_key("oz") < vi_key("ôa") < vi_key("ôz") < vi_key("ơa")


def test_foreign_letters_in_their_latin_place():
    order = ["ez", "êz", "f", "g", "i", "j", "k", "v", "w", "x", "y", "z"]
    assert sort_vi(reversed(order)) == order


@pytest.mark.parametrize("vowel", list(VOWELS))
def test_tone_order(vowel):
    # none < huyền < hỏi < ngã < sắc < nặng
    forms = [vowel] + [unicodedata.normalize("NFC", vowel + t) for t in TONES]
    assert sort_vi(reversed(forms)) == forms
    assert [vi_key(f)[0] for f in forms] == [vi_key(vowel)[0]] * 6  # same primary


def test_levels():
    # case only breaks ties after tones
    assert sort_vi(["Án", "án", "AN", "An", "an"]) == ["an", "An", "AN", "án", "Án"]
    # tones only break ties after letters
    assert vi_key("Bình") > vi_key("Binh")
    assert vi_key("Bình") < vi_key("Binha")
    # ICU compares tone positions left to right: the earlier tone decides
    assert sort_vi(["Hòa", "Hóa", "Hoá", "Hoà", "Hoa"]) == ["Hoa", "Hoà", "Hoá", "Hòa", "Hóa"]


def test_spaces_and_punctuation_before_letters():
    assert vi_key("An Bình") < vi_key("Anh")
    assert vi_key("An") < vi_key("An Bình")
    assert sort_vi(["ab", "a.b", "a-b", "a b", "a_b"]) == ["a b", "a_b", "a-b", "a.b", "ab"]
    assert sort_vi(["a", "9", "10", "-", " "]) == [" ", "-", "10", "9", "a"]
    assert vi_key("An\u00a0Bình")[:2] == vi_key("An Bình")[:2]  # NBSP: tertiary variant


def test_key_is_nfc_invariant():
    for w in ["Nguyễn", "Thuỷ", "Đặng", "ƯỚC", "Quỳnh"]:
        assert vi_key(NFD(w)) == vi_key(w)


def strip_to_letters(s: str) -> str:
    return strip_tones(s).lower()


@given(vi_text, vi_text)
def test_letters_decide_first(a, b):
    """Whenever the letters differ, the order is the order of the toneless lowercase text."""
    la, lb = strip_to_letters(a), strip_to_letters(b)
    if vi_key(la)[0] != vi_key(lb)[0]:
        assert (vi_key(a) < vi_key(b)) == (vi_key(la) < vi_key(lb))


@given(st.lists(any_text, max_size=30), st.randoms(use_true_random=False))
def test_total_order(items, rnd):
    keys = [vi_key(x) for x in items]
    for x, kx in zip(items, keys):
        for y, ky in zip(items, keys):
            # antisymmetric and total: equal keys exactly for equal (NFC) texts
            assert (kx == ky) == (nfc(x) == nfc(y))
            assert (kx < ky) != (ky < kx) or kx == ky
    once = sort_vi(items)
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert [nfc(x) for x in sort_vi(shuffled)] == [nfc(x) for x in once]
    assert all(vi_key(p) <= vi_key(q) for p, q in zip(once, once[1:]))


def test_sort_is_stable_with_key():
    rows = [("Bình", 1), ("An", 2), ("Bình", 3), ("An", 4), (None, 5)]
    out = sort_vi(rows, key=lambda r: r[0])
    assert [r[1] for r in out] == [5, 2, 4, 1, 3]
    assert [r[1] for r in sort_vi(rows, key=lambda r: r[0], reverse=True)] == [1, 3, 2, 4, 5]


# --------------------------------------------------------------------------- person_key

OFFICIAL_ORDER = [
    "Nguyễn Văn An",
    "Lê Thị Anh",
    "Phạm Thị Ánh",
    "Trần Thị Ánh",
    "Dương Thị Ngọc Ánh",
    "Lê Bình",
    "Phạm Minh Châu",
    "Võ Thị Dung",
    "Hoàng Văn Dũng",
    "Bùi Thị Đào",
    "Trần Văn Giang",
    "Nguyễn Thị Hà",
    "Ngô Thanh Hải",
    "Lý Văn Hải",
    "Phan Văn Hải",
    "Huỳnh Thị Kim Oanh",
    "Đinh Công Tráng",
    "Lâm Uyên",
    "Vũ Thị Xuân",
    "Đặng Yến",
]


def test_person_order():
    for seed in range(10):
        names = OFFICIAL_ORDER[:]
        random.Random(seed).shuffle(names)
        assert sort_people(names) == OFFICIAL_ORDER
    assert person_key("Nguyễn Văn An") < person_key("Trần Thị Ánh") < person_key("Lê Bình")


def test_person_key_cleans_and_normalises():
    assert person_key("  Nguyễn   Văn\u00a0An ") == person_key("Nguyễn Văn An")
    assert person_key(NFD("Trần Thị Ánh")) == person_key("Trần Thị Ánh")
    assert person_key("") < person_key("An") < person_key("Nguyễn An") < person_key("Trần Văn An")


def test_sort_people_with_key_and_none():
    rows = [{"n": "Lê Bình"}, {"n": None}, {"n": "Nguyễn Văn An"}]
    assert [r["n"] for r in sort_people(rows, key=lambda r: r["n"])] == [None, "Nguyễn Văn An", "Lê Bình"]


@given(st.lists(vi_text, max_size=20))
def test_person_order_is_total(names):
    out = sort_people(names)
    assert all(person_key(a) <= person_key(b) for a, b in zip(out, out[1:]))
    again = sort_people(list(reversed(names)))
    assert [person_key(x) for x in again] == [person_key(x) for x in out]


# --------------------------------------------------------------------------- speed


def _names(n: int) -> list[str]:
    rnd = random.Random(7)
    fam = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
    mid = "Văn Thị Hữu Đức Minh Thanh Ngọc Thu Quốc Xuân Hồng Kim Bảo".split()
    giv = ("An Anh Ánh Bình Châu Dũng Dung Giang Hà Hải Hạnh Hiếu Hoà Hòa Hùng Hương Khánh Lan "
           "Linh Long Mai Nam Nga Ngân Nhung Oanh Phúc Phương Quân Quý Sơn Tâm Thảo Thủy Thuỷ "
           "Trang Trinh Tú Tuấn Uyên Vân Việt Xuân Yến").split()
    return [" ".join([rnd.choice(fam), *rnd.sample(mid, rnd.randint(0, 2)), rnd.choice(giv)])
            for _ in range(n)]


def test_sorting_many_names_matches_the_reference_weights():
    """The fast paths (translate tables, cached word keys) order a big list exactly as the reference
    weights do. How fast it is belongs to bench/sort_bench.py, not to the suite."""
    from dvk.text.normalize import _string_weights

    names = _names(20_000)

    def ref(s: str):
        s = unicodedata.normalize("NFC", s)
        return (*_string_weights(s), s)

    assert sort_vi(names) == sorted(names, key=ref)
    people = sort_people(names)
    assert sorted(people) == sorted(names)
    given = [ref(n.split()[-1]) for n in people]
    assert given == sorted(given)  # by given name first


# --------------------------------------------------------------------------- ICU oracle


@needs_icu
def test_matches_icu_on_names():
    coll = icu.Collator.createInstance(icu.Locale("vi"))
    names = _names(3000) + OFFICIAL_ORDER + REQUIRED_ORDER + [w.upper() for w in REQUIRED_ORDER]
    assert sort_vi(names) == sorted(names, key=lambda s: (coll.getSortKey(s), s))


@needs_icu
@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(VI_CHARS + list(" -.,'0129fjwz\u00a0")), max_size=8),
    st.text(alphabet=st.sampled_from(VI_CHARS + list(" -.,'0129fjwz\u00a0")), max_size=8),
)
def test_matches_icu_pairwise(a, b):
    coll = icu.Collator.createInstance(icu.Locale("vi"))
    for x, y in ((a, b), (NFD(a), NFD(b))):
        ka, kb = vi_key(x)[:3], vi_key(y)[:3]
        assert coll.compare(x, y) == (ka > kb) - (ka < kb), (x, y)


@needs_icu
def test_person_order_matches_icu_word_by_word():
    coll = icu.Collator.createInstance(icu.Locale("vi"))

    def icu_person(name):
        w = name.split()
        k = coll.getSortKey
        return (k(w[-1]), [k(m) for m in w[1:-1]], k(w[0]) if len(w) > 1 else b"", name)

    names = _names(2000) + OFFICIAL_ORDER
    assert sort_people(names) == sorted(names, key=icu_person)
