"""Tests for dvk.text.legacy: TCVN3 (ABC) and VNI to Unicode, and the detector."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvk.text import legacy
from dvk.text.legacy import (
    TCVN3_TABLE,
    VNI_TABLE,
    detect_legacy,
    fix_legacy,
    legacy_font,
    might_be_legacy,
    tcvn3_to_unicode,
    vni_to_unicode,
)

NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731

TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
BASE_VOWELS = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
ALL_LOWER = sorted({NFC(v + t) for v in BASE_VOWELS for t in TONES} | {"đ"})
ALL_UPPER = sorted(c.upper() for c in ALL_LOWER)

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
          "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"]
NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay",
          "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "ua",
          "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ưu", "ươ", "yê", "iêu", "yêu", "oai",
          "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê"]
CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
_MAIN = {"a", "ă", "â", "e", "ê", "o", "ô", "ơ", "ư", "i", "u", "y"}


def _put_tone(nucleus: str, coda: str, tone: str, old_style: bool) -> str:
    """Place the tone on the right vowel (new style, or old style 'hoà')."""
    marked = [i for i, c in enumerate(nucleus) if c in "ăâêôơư"]
    if marked:
        pos = marked[-1]
    elif len(nucleus) == 1:
        pos = 0
    elif len(nucleus) == 3 or coda:
        pos = 1
    elif nucleus in ("oa", "oe", "uy") and not old_style:
        pos = 1
    else:
        pos = 0
    return nucleus[:pos] + NFC(nucleus[pos] + tone) + nucleus[pos + 1:]


def _syllables() -> list[str]:
    out = set()
    for o, n, c, t in itertools.product(ONSETS, NUCLEI, CODAS, TONES):
        if c and n[-1] in "iouy" and len(n) > 1 and n not in ("uy", "oo"):
            continue  # glide-final nucleus takes no coda
        if (o == "qu" and n[0] in "ou") or (o == "gi" and n[0] == "i"):
            continue  # the glide is already in the onset
        for old in (False, True):
            out.add(NFC(o + _put_tone(n, c, t, old) + c))
    return sorted(out)


SYLLABLES = _syllables()

MODERN_WORDS = [
    "Công đoàn", "ngành Y tế", "tỉnh Đồng Nai", "Dân vận khéo", "Nguyễn Văn An", "Trần Thị Bình",
    "Hoà", "hòa", "Thuỷ", "thủy", "khoá học", "Cô giáo", "Tôi", "Bảo Thắng", "Hà Nội",
    "Thành phố Hồ Chí Minh", "Bà Rịa – Vũng Tàu", "CĐCS Bệnh viện Đa khoa", "Quyết định",
    "mô hình", "gương điển hình", "Xuân", "Nguyên", "Yên", "thuê", "Tuấn", "KHOÁ", "HOÀ BÌNH",
    "THUÝ", "QUÂN", "XOÁ", "Tòa án", "Chị Út", "Ông Bà", "Cà phê", "Cá", "Á châu",
]
WESTERN = [
    "Café", "Müller", "España", "Bjørn", "naïve", "où", "Loïc", "goût", "Aïcha", "Thaï",
    "5 µm", "Straße", "Köln", "Zürich", "Citroën", "Gaëlle", "São Paulo", "Ærø", "Mötley Crüe",
    "«Bonjour»", "Crème brûlée", "façade", "piñata", "Ñandú", "Øresund", "Ñu", "Raúl",
    "© 2021 ACME®", "2×3 = 6", "Señor Peña", "Héloïse", "Noël", "Ångström", "Dvořák",
    "Plain ASCII text, with numbers 12345.", "", "Tüm gün", "Søren Møn",
]


# ---------------------------------------------------------------------------
# TCVN3
# ---------------------------------------------------------------------------
def test_tcvn3_table_covers_every_letter_once() -> None:
    values = list(TCVN3_TABLE.values())
    assert len(values) == len(set(values)) == 67 + 7
    assert set(ALL_LOWER) - set("aeiouy") <= set(values)
    assert {"Ă", "Â", "Đ", "Ê", "Ô", "Ơ", "Ư"} <= set(values)
    assert all("\u00a1" <= k <= "\u00ff" for k in TCVN3_TABLE)


@pytest.mark.parametrize(("legacy_text", "expected"), [
    ("B¶o Th¾ng", "Bảo Thắng"),
    ("M\u00adêng Kh\u00ad¬ng", "Mường Khương"),
    ("B¸t X¸t", "Bát Xát"),
    ("C«ng ®oµn ngµnh Y tÕ tØnh §ång Nai", "Công đoàn ngành Y tế tỉnh Đồng Nai"),
    ("D©n vËn khÐo", "Dân vận khéo"),
    ("Lª V¨n Hïng", "Lê Văn Hùng"),
    ("Tr\u00adêng", "Trường"),
    ("NguyÔn ThÞ Thuû", "Nguyễn Thị Thuỷ"),
    ("¡n ¢n £m ¤ng ¥n ¦u §i", "Ăn Ân Êm Ông Ơn Ưu Đi"),
])
def test_tcvn3_examples(legacy_text: str, expected: str) -> None:
    assert tcvn3_to_unicode(legacy_text) == expected
    assert fix_legacy(legacy_text) == (expected, "tcvn3")


_TCVN3_INV = {v: k for k, v in TCVN3_TABLE.items()}


def _to_tcvn3(text: str) -> str:
    inv = _TCVN3_INV
    return "".join(inv.get(c, inv.get(c.lower(), c)) for c in NFC(text))


def test_tcvn3_round_trip_all_syllables() -> None:
    for syl in SYLLABLES:
        assert tcvn3_to_unicode(_to_tcvn3(syl)) == syl


def test_tcvn3_uppercase_fonts() -> None:
    # .VnTimeH draws every code as a capital: the same codes, upper-cased
    assert tcvn3_to_unicode("b¶o th¾ng", uppercase=True) == "BẢO THẮNG"
    assert fix_legacy("c«ng ®oµn", ".VnTimeH") == ("CÔNG ĐOÀN", "tcvn3")
    assert fix_legacy("C«ng ®oµn", ".VnArial NarrowH") == ("CÔNG ĐOÀN", "tcvn3")
    for upper in ALL_UPPER:
        assert tcvn3_to_unicode(_to_tcvn3(upper.lower()), uppercase=True) == upper


# ---------------------------------------------------------------------------
# VNI
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("legacy_text", "expected"), [
    ("Xin chaøo", "Xin chào"),
    ("Vieät Nam", "Việt Nam"),
    ("Tröôøng Ñaïi hoïc", "Trường Đại học"),
    ("Ñoàng Nai", "Đồng Nai"),
    ("Nguyeãn Vaên Thaéng", "Nguyễn Văn Thắng"),
    ("TRÖÔØNG ÑAÏI HOÏC", "TRƯỜNG ĐẠI HỌC"),
    ("Coâng ñoaøn ngaønh Y teá", "Công đoàn ngành Y tế"),
    ("Daân vaän kheùo", "Dân vận khéo"),
    ("Khæ, Ló, Ò, yø yù yû yõ î", "Khỉ, Lĩ, Ị, ỳ ý ỷ ỹ ỵ"),
])
def test_vni_examples(legacy_text: str, expected: str) -> None:
    assert vni_to_unicode(legacy_text) == expected


_VNI_INV: dict[str, str] = {}
for _k, _v in VNI_TABLE.items():
    _VNI_INV.setdefault(_v, _k)


def _to_vni(text: str) -> str:
    return "".join(_VNI_INV.get(c, c) for c in NFC(text))


def test_vni_covers_every_letter() -> None:
    for letter in ALL_LOWER + ALL_UPPER:
        if letter in "aeiouyAEIOUY":
            continue
        encoded = _to_vni(letter)
        assert encoded != letter or letter in "ìíÌÍ", letter
        assert vni_to_unicode(encoded) == letter


def test_vni_round_trip_all_syllables() -> None:
    for syl in SYLLABLES:
        assert vni_to_unicode(_to_vni(syl)) == syl
        assert vni_to_unicode(_to_vni(syl.upper())) == syl.upper()


def test_vni_output_is_nfc() -> None:
    out = vni_to_unicode("Vieät Nam Ñoàng Nai Tröôøng")
    assert out == NFC(out)


# ---------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------
def test_font_names() -> None:
    assert legacy_font(".VnTime") == "tcvn3"
    assert legacy_font(".VnTimeH") == "tcvn3"
    assert legacy_font(" .VnArial Narrow") == "tcvn3"
    assert legacy_font("VNI-Times") == "vni"
    assert legacy_font("VNI-Helve-Condense") == "vni"
    for name in (None, "", "Times New Roman", "Arial", "Calibri", "VnTimes"):
        assert legacy_font(name) is None


@pytest.mark.parametrize(("text", "enc"), [
    ("B¶o Th¾ng", "tcvn3"), ("Hµ Néi", "tcvn3"), ("Thµnh phè Hå ChÝ Minh", "tcvn3"),
    ("M· ®¬n vÞ", "tcvn3"), ("Xin chaøo", "vni"), ("Vieät Nam", "vni"),
    ("Ñoàng Nai", "vni"), ("Xin chaøo caùc baïn", "vni"), ("TRÖÔØNG ÑAÏI HOÏC", "vni"),
])
def test_detects_legacy_text(text: str, enc: str) -> None:
    assert detect_legacy(text) == enc
    assert might_be_legacy(text)


@pytest.mark.parametrize("text", WESTERN + MODERN_WORDS)
def test_no_false_positive_on_examples(text: str) -> None:
    assert detect_legacy(text) is None
    if text in MODERN_WORDS:
        assert not might_be_legacy(text)  # the fast path of the CSV reader
    fixed, enc = fix_legacy(text)
    assert enc is None and fixed == NFC(text)


def test_no_false_positive_on_any_single_syllable() -> None:
    for syl in SYLLABLES:
        for form in (syl, syl.upper(), syl.capitalize()):
            assert detect_legacy(form) is None, form


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SYLLABLES + MODERN_WORDS), min_size=1, max_size=8),
       st.sampled_from([str, str.upper, str.title]))
def test_detector_never_fires_on_modern_vietnamese(words: list[str], case: object) -> None:
    text = case(" ".join(words))  # type: ignore[operator]
    assert detect_legacy(text) is None
    # NFD input (macOS) is modern text too
    assert detect_legacy(unicodedata.normalize("NFD", text)) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60))
def test_detector_never_fires_on_ascii(text: str) -> None:
    assert detect_legacy(text) is None
    assert fix_legacy(text) == (text, None)


def test_font_hint_respects_unicode_typed_in_old_font() -> None:
    # Unicode typed into a cell that kept .VnTime / VNI-Times: left alone
    assert fix_legacy("Cô giáo", ".VnTime") == ("Cô giáo", None)
    assert fix_legacy("Cà phê", ".VnTime") == ("Cà phê", None)
    assert fix_legacy("Nguyễn Văn An", ".VnTime") == ("Nguyễn Văn An", None)
    assert fix_legacy("Tôi", "VNI-Times") == ("Tôi", None)
    assert fix_legacy("ASCII only", ".VnTime") == ("ASCII only", None)
    # …but decides single words the text alone would not
    assert fix_legacy("Hå", ".VnTime") == ("Hồ", "tcvn3")
    assert fix_legacy("Caùc", "VNI-Times") == ("Các", "vni")


def test_fix_legacy_normalises_plain_text() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    assert fix_legacy(nfd) == ("Nguyễn Thị Hoà", None)


def test_encoded_phrases_are_detected() -> None:
    phrases = ["Công đoàn ngành Y tế tỉnh Đồng Nai", "Dân vận khéo năm hai nghìn hai mốt",
               "Bệnh viện Đa khoa Thống Nhất", "Trung tâm Kiểm soát bệnh tật",
               "Nguyễn Thị Thanh Hương", "Phòng chống dịch bệnh ở cơ sở"]
    for p in phrases:
        assert fix_legacy(_to_tcvn3(p)) == (p, "tcvn3"), p
        assert fix_legacy(_to_vni(p)) == (p, "vni"), p


def test_might_be_legacy_is_a_superset() -> None:
    samples = WESTERN + MODERN_WORDS + [_to_tcvn3(w) for w in MODERN_WORDS] + [
        _to_vni(w) for w in MODERN_WORDS]
    for s in samples:
        if detect_legacy(s) is not None:
            assert might_be_legacy(s), s


def test_internal_syllable_check() -> None:
    assert legacy._is_syllable("nghiêng")
    assert legacy._is_syllable("Thắng")
    assert not legacy._is_syllable("Müller")
    assert not legacy._is_syllable("niuo")
