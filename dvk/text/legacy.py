"""Legacy Vietnamese 8-bit encodings: TCVN3 (ABC) and VNI, to Unicode NFC.

Old Excel files typed before Unicode became common keep Vietnamese text in
"font encodings": the cell holds Latin-1 characters and only the font makes
them look Vietnamese.

* **TCVN3** (TCVN 5712:1993 "VN3", the ABC fonts ``.VnTime``, ``.VnArial`` …):
  one byte per letter, ``"B¶o Th¾ng"`` is "Bảo Thắng", ``ư`` is the soft hyphen
  U+00AD.  The single-byte set only has lowercase toned letters (plus the seven
  toneless capitals Ă Â Đ Ê Ô Ơ Ư); capitals with tones were typed with the
  uppercase fonts (``.VnTimeH``, ``.VnArialH`` …) which draw every byte as a
  capital.  So the uppercase "table" is the same table followed by
  ``str.upper()``: pass ``uppercase=True`` (``fix_legacy`` does it by itself
  for a font name ending in ``H``).
* **VNI** (``VNI-Times``, ``VNI-Helve`` …): an ASCII base letter followed by a
  Latin-1 modifier carrying the vowel mark and/or the tone (``"Xin chaøo"`` is
  "Xin chào", ``"Vieät"`` is "Việt"), plus a few stand-alone letters
  (``ñ`` = đ, ``ö`` = ư, ``ô`` = ơ, ``æ``/``ó``/``ò``/``î`` = ỉ/ĩ/ị/ỵ).

Public API::

    tcvn3_to_unicode(s, uppercase=False) -> str
    vni_to_unicode(s) -> str
    detect_legacy(s, font_name=None) -> "tcvn3" | "vni" | None
    fix_legacy(s, font_name=None) -> (text, "tcvn3" | "vni" | None)
    legacy_font(font_name) -> "tcvn3" | "vni" | None
    might_be_legacy(s) -> bool        # cheap pre-filter, no false negatives
                                      # for what detect_legacy can return

Detection without a font name is deliberately conservative (false negatives
are preferred): ordinary Unicode Vietnamese, ASCII/English and Western text
such as "Café", "Müller", "España", "Bjørn", "naïve", "où" are never flagged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "TCVN3",
    "VNI",
    "tcvn3_to_unicode",
    "vni_to_unicode",
    "detect_legacy",
    "fix_legacy",
    "legacy_font",
    "might_be_legacy",
]

TCVN3 = "tcvn3"
VNI = "vni"

# --------------------------------------------------------------------------
# TCVN3 (ABC, VN3) table: code point as Excel shows it (= the byte, Latin-1)
# --------------------------------------------------------------------------
_TCVN3_PAIRS = (
    # toneless capitals (the only capitals of the lowercase fonts)
    "¡Ă ¢Â £Ê ¤Ô ¥Ơ ¦Ư §Đ "
    # toneless lowercase
    "¨ă ©â ªê «ô ¬ơ \u00adư ®đ "
    # a à ả ã á ạ
    "µà ¶ả ·ã ¸á ¹ạ "
    # ă ằ ẳ ẵ ắ ặ
    "»ằ ¼ẳ ½ẵ ¾ắ Æặ "
    # â ầ ẩ ẫ ấ ậ
    "Çầ Èẩ Éẫ Êấ Ëậ "
    # e
    "Ìè Îẻ Ïẽ Ðé Ñẹ "
    # ê
    "Òề Óể Ôễ Õế Öệ "
    # i
    "×ì Øỉ Üĩ Ýí Þị "
    # o
    "ßò áỏ âõ ãó äọ "
    # ô
    "åồ æổ çỗ èố éộ "
    # ơ
    "êờ ëở ìỡ íớ îợ "
    # u
    "ïù ñủ òũ óú ôụ "
    # ư
    "õừ öử ÷ữ øứ ùự "
    # y
    "úỳ ûỷ üỹ ýý þỵ"
)
TCVN3_TABLE: dict[str, str] = {p[0]: p[1] for p in _TCVN3_PAIRS.split(" ")}
_TCVN3_TRANS = {ord(k): v for k, v in TCVN3_TABLE.items()}

# Latin-1 letters that modern (NFC) Vietnamese uses as they are.
_NFC_VI_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
# TCVN3 codes that never occur in Unicode Vietnamese: real evidence.
_TCVN3_STRONG = frozenset(k for k in TCVN3_TABLE if k not in _NFC_VI_LATIN1)
# ... of which the non-letters (symbols) are next to impossible inside a
# Western word, so one such syllable is enough to decide.
_TCVN3_SYMBOLS = frozenset(k for k in _TCVN3_STRONG if k <= "\u00bf" or k in "×÷")
# Vietnamese Latin-1 letters that TCVN3 cannot contain (holes in the table).
_TCVN3_HOLES = frozenset(c for c in _NFC_VI_LATIN1 if c not in TCVN3_TABLE)


def tcvn3_to_unicode(s: str, uppercase: bool = False) -> str:
    """Convert TCVN3/ABC text (as Latin-1 code points) to Unicode NFC.

    ``uppercase=True`` is for text typed in an uppercase font (``.VnTimeH``):
    every letter is then a capital, whatever code was stored.
    """
    out = s.translate(_TCVN3_TRANS)
    if uppercase:
        out = out.upper()
    return unicodedata.normalize("NFC", out)


# --------------------------------------------------------------------------
# VNI (VNI-Windows) table
# --------------------------------------------------------------------------
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"

# modifier (lowercase form) -> combining marks it adds
_VNI_TONES = {"ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRC = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}

# VNI base (lowercase) -> (Unicode base, allowed modifiers -> marks)
_VNI_BASES: dict[str, tuple[str, dict[str, str]]] = {
    "a": ("a", {**_VNI_TONES, **{k: _CIRC + v for k, v in _VNI_CIRC.items()},
                **{k: _BREVE + v for k, v in _VNI_BREVE.items()}}),
    "e": ("e", {**_VNI_TONES, **{k: _CIRC + v for k, v in _VNI_CIRC.items()}}),
    "o": ("o", {**_VNI_TONES, **{k: _CIRC + v for k, v in _VNI_CIRC.items()}}),
    "ô": ("o" + _HORN, dict(_VNI_TONES)),  # ơ
    "u": ("u", dict(_VNI_TONES)),
    "ö": ("u" + _HORN, dict(_VNI_TONES)),  # ư
    "y": ("y", dict(_VNI_TONES)),
}
# stand-alone VNI letters (lowercase) -> Unicode
_VNI_SINGLE = {
    "ô": "ơ", "ö": "ư", "ñ": "đ",
    "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",  # ì and í are themselves
}


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}
    for base, (ubase, mods) in _VNI_BASES.items():
        for mod, marks in mods.items():
            low = unicodedata.normalize("NFC", ubase + marks)
            table[base + mod] = low
            table[base.upper() + mod.upper()] = unicodedata.normalize(
                "NFC", ubase.upper() + marks)
    for k, v in _VNI_SINGLE.items():
        table[k] = v
        table[k.upper()] = v.upper()
    return table


VNI_TABLE: dict[str, str] = _build_vni()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, VNI_TABLE), key=len, reverse=True)))
# pairs that also occur in (old-style tone placement) Unicode text: hoà, hoá, hoã
_VNI_AMBIGUOUS = {"oá", "oà", "oã", "OÁ", "OÀ", "OÃ"}
_VNI_STRONG_PAIRS = {k for k in VNI_TABLE if len(k) == 2 and k not in _VNI_AMBIGUOUS}
# modifiers that (after a vowel) do not occur in Western languages either:
# one syllable with one of these is enough to decide.
_VNI_DISTINCT_MODS = set("øõâêåãáàä") | set("ØÕÂÊÅÃÁÀÄ")
_VNI_DISTINCT_PAIRS = {k for k in _VNI_STRONG_PAIRS if k[1] in _VNI_DISTINCT_MODS}
_VNI_STRONG_SINGLES = set("öñæîÖÑÆÎ")
# letters VNI never produces: their presence means the text is something else
_VNI_FOREIGN = set("çðþÿßÇÐÞ")


def vni_to_unicode(s: str) -> str:
    """Convert VNI (VNI-Windows) text to Unicode NFC."""
    out = _VNI_RE.sub(lambda m: VNI_TABLE[m.group()], s)
    return unicodedata.normalize("NFC", out)


# --------------------------------------------------------------------------
# Font names
# --------------------------------------------------------------------------
def legacy_font(font_name: str | None) -> str | None:
    """``"tcvn3"`` for ``.Vn*`` fonts, ``"vni"`` for ``VNI-*`` fonts, else None."""
    if not font_name:
        return None
    name = font_name.strip()
    low = name.lower()
    if low.startswith(".vn"):
        return TCVN3
    if low.startswith("vni-") or low.startswith("vni ") or low.startswith("vni_"):
        return VNI
    return None


def _is_upper_font(font_name: str | None) -> bool:
    """``.VnTimeH``, ``.VnArialH``, ``.VnArial NarrowH`` … draw capitals only."""
    return bool(font_name) and font_name.strip().endswith("H")  # type: ignore[union-attr]


# --------------------------------------------------------------------------
# Vietnamese syllable check (used to confirm a guess)
# --------------------------------------------------------------------------
_ONSETS = "ngh ng nh ch gh gi kh ph th tr qu b c d đ g h k l m n p r s t v x".split()
_NUCLEI = (
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy "
    "ưa ưi ưu ươ yê "
    "iêu yêu oai oay oeo uây uôi ươi ươu uya uyê uyu"
).split()
_CODAS = "ch ng nh c m n p t".split()


def _alt(items: list[str]) -> str:
    return "(?:" + "|".join(sorted(items, key=len, reverse=True)) + ")"


_SYLLABLE_RE = re.compile(f"{_alt(_ONSETS)}?{_alt(_NUCLEI)}{_alt(_CODAS)}?")
_TONE_MARKS = {_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT}


@lru_cache(maxsize=4096)
def _is_syllable(word: str) -> bool:
    """True if ``word`` (Unicode) is a well-formed Vietnamese syllable."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for c in decomposed if c in _TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return _SYLLABLE_RE.fullmatch(bare) is not None


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------
_TOKEN_RE = re.compile("[A-Za-z\u00a1-\u00ff]+")


def _pair_class(bases: str, mods: str) -> str:
    return f"[{re.escape(bases)}][{re.escape(mods)}]"


# Cheap pre-filter: any TCVN3-only code, or any VNI sequence that Unicode
# Vietnamese cannot contain.  Everything detect_legacy can flag matches it.
_LOW_TONES = "".join(_VNI_TONES)
_LOW_CIRC = "".join(_VNI_CIRC)
_LOW_BREVE = "".join(_VNI_BREVE)
_SUSPECT_RE = re.compile("|".join([
    "[" + re.escape("".join(sorted(_TCVN3_STRONG | _VNI_STRONG_SINGLES | set("ÛÅÄ")))) + "]",
    _pair_class("a", _LOW_TONES + _LOW_CIRC + _LOW_BREVE),
    _pair_class("e", _LOW_TONES + _LOW_CIRC),
    _pair_class("o", _LOW_TONES + "âåä"),
    _pair_class("uyôö", _LOW_TONES),
    _pair_class("A", (_LOW_TONES + _LOW_CIRC + _LOW_BREVE).upper()),
    _pair_class("E", (_LOW_TONES + _LOW_CIRC).upper()),
    _pair_class("O", (_LOW_TONES + "âåä").upper()),
    _pair_class("UYÔÖ", _LOW_TONES.upper()),
]))


# Latin letters beyond Latin-1 and combining marks: Vietnamese in Unicode.
_MODERN_RE = re.compile("[\u0100-\u024f\u0300-\u036f\u1e00-\u1eff]")


def might_be_legacy(s: str) -> bool:
    """Fast test: False means ``detect_legacy(s)`` (without font) is None."""
    return (not s.isascii() and _MODERN_RE.search(s) is None
            and _SUSPECT_RE.search(s) is not None)


def _has_modern_letters(s: str) -> bool:
    """Letters/marks beyond Latin-1 (ư, ạ, đ, combining marks, other scripts)."""
    for c in s:
        if c > "\u00ff" and (c.isalpha() or unicodedata.category(c).startswith("M")):
            return True
    return False


# Latin-1 letters common in Western European words (German, French, Nordic,
# Spanish, Turkish…): weaker evidence of TCVN3 than þ, Ð, ×, ¶, etc.
_WESTERN_LETTERS = frozenset("äöüëïñçøåæßÿîûÄÖÜËÏÑÇØÅÆ")


def _score_tcvn3(s: str, hinted: bool) -> tuple[int, int, int, int]:
    """(valid syllables with TCVN3-only codes, of which with symbols, invalid,
    valid ones with a code that is not a common Western letter)."""
    valid = distinct = invalid = rare = 0
    for tok in _TOKEN_RE.findall(s):
        strong = [c for c in tok if c in _TCVN3_STRONG]
        if not strong:
            continue
        if not hinted and len(tok) < 2:
            continue
        if not hinted and tok[0] == "µ" and tok[1:].isascii():
            continue  # "µm", "µg": micro sign, not "à"
        if _is_syllable(tok.translate(_TCVN3_TRANS)):
            valid += 1
            if any(c in _TCVN3_SYMBOLS for c in strong):
                distinct += 1
            if any(c not in _WESTERN_LETTERS for c in strong):
                rare += 1
        else:
            invalid += 1
    return valid, distinct, invalid, rare


def _vni_units(tok: str) -> list[str]:
    """Split a token into VNI units (pairs, stand-alone letters, others)."""
    units = []
    pos = 0
    for m in _VNI_RE.finditer(tok):
        gap = tok[pos:m.start()]
        units.extend(gap)
        units.append(m.group())
        pos = m.end()
    units.extend(tok[pos:])
    return units


def _score_vni(s: str, hinted: bool) -> tuple[int, int, int, int]:
    valid = distinct = invalid = 0
    for tok in _TOKEN_RE.findall(s):
        units = _vni_units(tok)
        strong = [u for u in units if u in _VNI_STRONG_PAIRS or u in _VNI_STRONG_SINGLES]
        if not strong:
            continue
        if not hinted and len(tok) < 2:
            continue
        converted = "".join(VNI_TABLE.get(u, u) for u in units)
        if _is_syllable(converted):
            valid += 1
            if any(u in _VNI_DISTINCT_PAIRS for u in strong) or (
                    len(tok) >= 3 and ("ñ" in tok or "Ñ" in tok)):
                distinct += 1  # Spanish ñ only survives as a syllable in "ñu"
        else:
            invalid += 1
    return valid, distinct, invalid, 0


def _decide(score: tuple[int, int, int, int], hinted: bool, clean_pairs: bool) -> int:
    """Return a confidence (0 = no) from (valid, distinct, invalid, rare).

    Without a font name: one syllable with a distinctive code, or three
    syllables, or (``clean_pairs``) two syllables, one of them with a code
    that is not a common Western letter, and no failed word.
    """
    valid, distinct, invalid, rare = score
    if valid == 0:
        return 0
    if hinted:
        return valid if valid >= invalid else 0
    if valid < 2 * invalid:
        return 0
    if distinct >= 1 or valid >= 3 or (clean_pairs and valid >= 2 and rare and invalid == 0):
        return valid
    return 0


def detect_legacy(s: str, font_name: str | None = None) -> str | None:
    """Guess whether ``s`` is TCVN3 or VNI text; None for Unicode/other text.

    A TCVN3/VNI font name decides the encoding, provided the text contains
    at least one syllable that only that encoding explains (Unicode typed into
    a cell that kept an old font is left alone).  Without a font name both
    encodings are tried and only clear evidence counts.
    """
    if not s or s.isascii():
        return None
    font_enc = legacy_font(font_name)
    if _MODERN_RE.search(s) is not None:
        return None
    if font_enc is None and _SUSPECT_RE.search(s) is None:
        return None
    if _has_modern_letters(s):
        return None
    results: dict[str, int] = {}
    if font_enc in (None, TCVN3) and not any(c in _TCVN3_HOLES for c in s):
        results[TCVN3] = _decide(_score_tcvn3(s, font_enc == TCVN3), font_enc == TCVN3, True)
    if font_enc in (None, VNI) and not any(c in _VNI_FOREIGN for c in s):
        results[VNI] = _decide(_score_vni(s, font_enc == VNI), font_enc == VNI, False)
    best = max(results.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


def fix_legacy(s: str, font_name: str | None = None) -> tuple[str, str | None]:
    """Return ``(unicode_nfc_text, "tcvn3" | "vni" | None)``.

    Text that is not recognised as legacy is returned NFC-normalised.
    """
    enc = detect_legacy(s, font_name)
    if enc == TCVN3:
        return tcvn3_to_unicode(s, uppercase=_is_upper_font(font_name)), enc
    if enc == VNI:
        return vni_to_unicode(s), enc
    return unicodedata.normalize("NFC", s), None
