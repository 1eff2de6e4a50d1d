"""Vietnamese text helpers: normalisation, duplicate-matching keys and collation.

Pure Python, standard library only.

* :func:`nfc` / :func:`clean` -- what to store: NFC text, tidied whitespace.
* :func:`fold` -- a key for *matching* duplicates (case, spacing and the
  old/new tone placement "hoà"/"hòa" are folded; letters and tones are not).
* :func:`vi_key` / :func:`person_key` -- sort keys that reproduce the CLDR/ICU
  "vi" collation (checked against ICU 72 / CLDR 42 in the tests), and the
  official order of personal names (given name, middle names, family name).
* :func:`clean_lines` -- :func:`clean` for a multi-line field (line breaks kept).

What a field may hold (no control character, a length limit) and how text is printed
are in :mod:`dvk.text.safety`, which imports nothing heavy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeVar

__all__ = [
    "nfc",
    "clean",
    "clean_lines",
    "fold",
    "fold_clean",
    "vi_key",
    "person_key",
    "sort_vi",
    "sort_people",
]

T = TypeVar("T")

# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

# Invisible characters that Word and web forms leave inside names: zero width
# space, word joiner, and a BOM that ended up mid-text.  (The soft hyphen is
# *not* removed: in TCVN3 text it is the letter "ư" and the legacy decoder
# must still see it.)
_INVISIBLE = {0x200B: None, 0x2060: None, 0xFEFF: None}
_WS_RUN = re.compile(r"\s+")


def nfc(s: str) -> str:
    """Return *s* in Unicode NFC.  Nothing else is changed."""
    return unicodedata.normalize("NFC", s)


def clean(s: str | None) -> str | None:
    """Normalise a one-line field for storage.

    NFC, drop zero-width characters, collapse every run of whitespace (spaces,
    tabs, NBSP, line breaks...) to one space and strip the ends.
    ``None`` stays ``None``; a blank string becomes ``""``.
    """
    if s is None:
        return None
    s = unicodedata.normalize("NFC", s).translate(_INVISIBLE)
    return _WS_RUN.sub(" ", s).strip()


def clean_lines(s: str) -> str:
    """Normalise a multi-line field for storage: each line :func:`clean`, line breaks kept
    (CRLF and CR become LF), blank lines at both ends dropped."""
    lines = [clean(line) or "" for line in s.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


# ---------------------------------------------------------------------------
# Vietnamese letters and tones
# ---------------------------------------------------------------------------

# Tone marks, in the order CLDR "vi" ranks them at the secondary level:
# huyền (grave) < hỏi (hook above) < ngã (tilde) < sắc (acute) < nặng (dot below).
_TONE_MARKS = "\u0300\u0309\u0303\u0301\u0323"
_VOWELS = "aăâeêioôơuưy"

# lowercase toned/untoned vowel -> (base vowel, tone 0..5) and back.
_SPLIT: dict[str, tuple[str, int]] = {}
_JOIN: dict[tuple[str, int], str] = {}
for _v in _VOWELS:
    for _t in range(6):
        _c = unicodedata.normalize("NFC", _v + (_TONE_MARKS[_t - 1] if _t else ""))
        assert len(_c) == 1, _c
        _SPLIT[_c] = (_v, _t)
        _JOIN[(_v, _t)] = _c
for _c in "bcdđfghjklmnpqrstvwxz":
    _SPLIT[_c] = (_c, 0)

_INITIALS = (
    "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "q", "r", "s", "t", "v", "x",
)  # longest first where they share a prefix
_FINALS = frozenset(("", "c", "ch", "m", "n", "ng", "nh", "p", "t"))
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _tone_slot(nucleus: str, has_final: bool) -> int:
    """Index in *nucleus* that carries the tone under the new-style rule."""
    if "ơ" in nucleus:  # ươ, uơ, ơi...
        return nucleus.index("ơ")
    for i, v in enumerate(nucleus):
        if v in "ăâêô":
            return i
    if "ư" in nucleus:  # ưa, ưi, ưu
        return nucleus.index("ư")
    if len(nucleus) == 1:
        return 0
    if has_final:  # hoàn, hoàng, quỳnh
        return len(nucleus) - 1
    if len(nucleus) == 2:  # hoà, khoẻ, thuỷ (new style) but mái, màu, mía, múa
        return 1 if nucleus in ("oa", "oe", "uy") else 0
    return 1  # ngoài, xoáy, khuỷu, ngoẹo


def _fold_word(word: str) -> str:
    """One letter run with its tone mark moved to the new-style slot (unchanged if not a syllable)."""
    bases: list[str] = []
    tone = 0
    for ch in word:
        split = _SPLIT.get(ch)
        if split is None:  # not a Vietnamese letter: leave the run alone
            return word
        bases.append(split[0])
        if split[1]:
            if tone:  # two tone marks: not a syllable, leave it alone
                return word
            tone = split[1]
    if not tone:
        return word
    base = "".join(bases)
    initial = ""
    for ini in _INITIALS:
        if base.startswith(ini):
            # "qu" and "gi" are consonants only when a vowel follows
            # ("quý", "già"); otherwise the u/i is the vowel ("gìn").
            if ini in ("qu", "gi") and not (len(base) > 2 and base[2] in _VOWELS):
                continue
            initial = ini
            break
    rest = base[len(initial):]
    n = 0
    while n < len(rest) and rest[n] in _VOWELS:
        n += 1
    nucleus, final = rest[:n], rest[n:]
    if not 1 <= n <= 3 or final not in _FINALS:
        return word
    slot = len(initial) + _tone_slot(nucleus, bool(final))
    out = bases
    out[slot] = _JOIN[(out[slot], tone)]
    return "".join(out)


def fold(s: str) -> str:
    """Key for matching duplicates, never for display.

    NFC, case-folded, whitespace collapsed and stripped, and in every
    Vietnamese syllable the tone mark moved to where the new-style rule puts
    it, so "Hoà"/"hòa", "Thuỷ"/"thủy", "khoẻ"/"khỏe", "qúy"/"quý" give the same
    key.  Letters and diacritics are kept: "Bình" != "Binh", "Đông" !=
    "Dong", "Mỹ" != "Mĩ".
    """
    s = clean(s) or ""
    return fold_clean(s)


def fold_clean(s: str) -> str:
    """:func:`fold` of a text that is already :func:`clean` (the same key, without cleaning twice)."""
    return " ".join(map(_TOKENS.__getitem__, unicodedata.normalize("NFC", s.casefold()).split(" ")))


def _fold_syllable(m: re.Match[str]) -> str:
    return _fold_word(m.group())


# A tone mark can only move within a vowel cluster: a toned vowel with no vowel next to it is
# either alone in its nucleus (slot 0: it stays), or in a run that is not a syllable (left
# alone).  So _fold_word changes only the letter runs in which a toned vowel touches another
# vowel, and a token without such a pair is its own key.
_TONED = "".join(c for c, (_b, t) in _SPLIT.items() if t)
_ANY_VOWEL = "".join(c for c, (b, _t) in _SPLIT.items() if b in _VOWELS)
_MAY_MOVE = re.compile(f"[{_TONED}][{_ANY_VOWEL}]|[{_ANY_VOWEL}][{_TONED}]")


class _TokenKeys(dict):  # type: ignore[type-arg]
    """token -> its key, computed on first use; looked up from C (map) for the tokens seen before."""

    def __missing__(self, token: str) -> str:
        if len(self) >= 1 << 16:  # bounded: a huge file of odd words must not grow it forever
            self.clear()
        # ASCII has no toned vowel: its own key (numbers, codes, many words)
        out = token if token.isascii() or not _MAY_MOVE.search(token) else _LETTER_RUN.sub(_fold_syllable, token)
        self[token] = out
        return out


_TOKENS = _TokenKeys()


@lru_cache(maxsize=1 << 16)
def _fold_token(token: str) -> str:
    """The reference definition of a token's key (every letter run through _fold_word); the
    differential tests hold :func:`fold_clean` equal to it."""
    return _LETTER_RUN.sub(_fold_syllable, token)


def _fold_reference(s: str) -> str:
    """:func:`fold` as first written: every space-separated token through _fold_token."""
    s = clean(s) or ""
    s = unicodedata.normalize("NFC", s.casefold())
    return " ".join([_fold_token(t) for t in s.split(" ")])


# ---------------------------------------------------------------------------
# Collation (CLDR/ICU "vi")
# ---------------------------------------------------------------------------
#
# The key of a string is (primary, secondary, tertiary, text), each level a
# str of "weight" characters compared code point by code point, exactly as
# ICU compares its three levels in turn:
#
# * primary: one weight per letter / digit / punctuation mark.  The CLDR "vi"
#   tailoring makes ă, â, đ, ê, ô, ơ, ư letters of their own
#   (a < ă < â ... d < đ ... u < ư); f, j, w, z keep their Latin place.
#   Spaces and punctuation are *not* ignorable (ICU's default for "vi"):
#   space < punctuation < symbols < currency < digits < letters.
# * secondary: a "common" weight for each character, followed by the weight
#   of each accent on it; tones rank grave < hook < tilde < acute < dot below.
# * tertiary: lowercase < uppercase, then compatibility variants.
# * text: the NFC string itself, so that the order is total and stable.
#
# The tables below were generated from ICU 72.1 (CLDR 42); the tests compare
# the result with PyICU when it is installed.

# Groups of punctuation, spaces and symbols in ICU "vi" primary order; the
# characters of one group share a primary weight (tertiary variants).
_PUNCT_GROUPS = (
    '\t', '\n', '\x0b', '\x0c', '\r', '\x85', '\u2028', '\u2029',
    ' \u3000\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\xa0\u2007\u202f',
    '\u203e', '_', '\u2017', '-', '\u2010\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2053',
    ',', ';', '\u204f', ':', '!', '\u203c', '\u2049', '\xa1', '?', '\u2048', '\u2047', '\xbf',
    '\u203d', '.\u2024', '\u2025', '\u2026', '\xb7', '\u2055', '\u2056', '\u2058', '\u2059',
    '\u205a', '\u205b', '\u205c', '\u205d', '\u205e', "'", '\u2018', '\u2019', '\u201a', '\u201b',
    '\u2039', '\u203a', '"', '\u201c', '\u201d', '\u201e', '\u201f', '\xab', '\xbb', '(', ')', '[',
    ']', '{', '}', '\u2045', '\u2046', '\u2016', '\xa7', '\xb6', '\u204b', '@', '*', '\u204e',
    '\u2051', '/', '\\', '&', '\u204a', '#', '%', '\u2030', '\u2031', '\u2020', '\u2021', '\u2022',
    '\u2023', '\u2027', '\u2043', '\u204c', '\u204d', '\u2032', '\u2033', '\u2034', '\u2057',
    '\u2035', '\u2036', '\u2037', '\u2038', '\u203b', '\u203f', '\u2054', '\u2040', '\u2050',
    '\u2041', '\u2042', '`', '\xb4', '^', '\xaf', '\xa8', '\xb8', '\xb0', '\xa9', '\xae', '+',
    '\xb1', '\xf7', '\xd7', '<', '=', '>', '\xac', '|', '\xa6', '~', '\u2052', '\u2044', '\xa4',
    '\xa2', '$', '\xa3', '\xa5', '\u20a0', '\u20a1', '\u20a2', '\u20a3', '\u20a4', '\u20a5',
    '\u20a6', '\u20a7', '\u20a9', '\u20aa', '\u20ab', '\u20ac', '\u20ad', '\u20ae', '\u20af',
    '\u20b0', '\u20b1', '\u20b2', '\u20b3', '\u20b4', '\u20b5', '\u20b6', '\u20b7', '\u20b8',
    '\u20b9', '\u20ba', '\u20bb', '\u20bc', '\u20bd', '\u20be', '\u20bf', '\u20c0',
)
_MARK_GROUPS = (
    '\u034f', '\u0332', '\u0313', '\u0314', '\u0300', '\u0309', '\u0303', '\u0301', '\u0323',
    '\u0306', '\u0302', '\u030c', '\u030a', '\u0342', '\u0308', '\u030b', '\u0307', '\u0338',
    '\u0327', '\u0328', '\u0304',
    '\u030d\u030e\u0312\u0315\u031a\u033d\u033e\u033f\u0346\u034a\u034b\u034c\u0350\u0351\u0352\u0357\u035b\u035d\u035e',
    '\u0316\u0317\u0318\u0319\u031c\u031d\u031e\u031f\u0320\u0329\u032a\u032b\u032c\u032f\u0333\u033a\u033b\u033c\u0347\u0348\u0349\u034d\u034e\u0353\u0354\u0355\u0356\u0359\u035a\u035c\u035f\u0362',
    '\u0336\u0337', '\u0335', '\u0305', '\u030f', '\u0310', '\u0311', '\u031b', '\u0321', '\u0322',
    '\u0324', '\u0325', '\u0326', '\u032d', '\u032e', '\u0330', '\u0331', '\u0334', '\u0339',
    '\u0345', '\u0358', '\u0360', '\u0361', '\u0363', '\u0368', '\u0369', '\u0364', '\u036a',
    '\u0365', '\u036b', '\u0366', '\u036c', '\u036d', '\u0367', '\u036e', '\u036f',
)

_LETTERS = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Letters ICU sorts as Latin letters with a secondary difference: ø and ł as
# o/l plus a stroke; ß, æ, œ, ð as ss/ae/oe/d whose first secondary weight is
# raised (above "no accent", below every accent).
_STROKED = {"ø": "o\u0338", "Ø": "O\u0338", "ł": "l\u0335", "Ł": "L\u0335"}
_EXPANSIONS = {"ß": "ss", "æ": "ae", "œ": "oe", "ð": "d",
               "ẞ": "SS", "Æ": "AE", "Œ": "OE", "Ð": "D"}
# base letter + combining mark that the tailoring turns into one letter
_CONTRACTIONS = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê",
                 ("o", "\u0302"): "ô", ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}

_SEC_COMMON = "\x05"
_SEC_RAISED = "\x80"  # first secondary weight of ß, æ, œ, ð
_TER_LOWER, _TER_UPPER, _TER_VARIANT = 0x20, 0x60, 0x40  # tertiary bases

_Weights = tuple[str, str, str]
_BASE: dict[str, _Weights] = {}
_PRIMARY_MARK: dict[str, str] = {}  # weight prefix for characters not listed


def _build_tables() -> None:
    w = 0x100
    cls_order = {"Z": 0, "C": 0, "P": 1, "S": 2, "Sc": 3}
    names = ("space", "punct", "symbol", "currency")
    current = 0
    for group in _PUNCT_GROUPS:
        cat = unicodedata.category(group[0])
        cls = cls_order.get(cat, cls_order[cat[0]])
        while current < cls:
            _PRIMARY_MARK[names[current]] = chr(w)
            w += 1
            current += 1
        for i, ch in enumerate(group):
            _BASE[ch] = (chr(w), _SEC_COMMON, chr(_TER_LOWER + i))
        w += 1
    _PRIMARY_MARK["currency"] = chr(w)
    w += 1
    for d in range(10):
        _BASE[str(d)] = (chr(w), _SEC_COMMON, chr(_TER_LOWER))
        w += 1
    for letter in _LETTERS:
        _BASE[letter] = (chr(w), _SEC_COMMON, chr(_TER_LOWER))
        _BASE[letter.upper()] = (chr(w), _SEC_COMMON, chr(_TER_UPPER))
        w += 1
    _PRIMARY_MARK["letter"] = chr(w)  # non-Latin letters, by code point
    _PRIMARY_MARK["other"] = chr(w + 1)  # anything else, by code point


_build_tables()
_SPACE_WEIGHT = _BASE[" "][0]
_MARK_WEIGHT: dict[str, str] = {}
for _i, _group in enumerate(_MARK_GROUPS):
    for _c in _group:
        _MARK_WEIGHT[_c] = chr(0x100 + _i)
_MARK_OTHER = chr(0x100 + len(_MARK_GROUPS))  # prefix for unlisted marks


def _mark_weight(mark: str) -> str:
    return _MARK_WEIGHT.get(mark) or (_MARK_OTHER + mark)


def _variant(t: str) -> str:
    """Tertiary weights of a compatibility form (fullwidth, superscript...)."""
    return "".join(chr(ord(c) + (_TER_VARIANT - _TER_LOWER)) if ord(c) < _TER_VARIANT
                   else c for c in t)


def _string_weights(s: str) -> _Weights:
    parts = [_char_weights(c) for c in s]
    return ("".join(p[0] for p in parts), "".join(p[1] for p in parts),
            "".join(p[2] for p in parts))


def _char_weights(ch: str) -> _Weights:
    """Collation weights of one character (see the comment above)."""
    known = _BASE.get(ch)
    if known is not None:
        return known
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):  # a combining mark not composed with its base
        return ("", _mark_weight(ch), chr(_TER_LOWER))
    if cat in ("Cc", "Cf"):
        return ("", "", "")  # controls and format characters are ignorable
    if cat[0] == "Z":
        return (_SPACE_WEIGHT, _SEC_COMMON, chr(_TER_VARIANT))
    decomposed = unicodedata.normalize("NFD", ch)
    if decomposed != ch:  # base letter + accents
        base, marks = decomposed[0], list(decomposed[1:])
        for i, mark in enumerate(marks):
            letter = _CONTRACTIONS.get((base.lower(), mark))
            if letter is not None:
                base = letter if base.islower() else letter.upper()
                del marks[i]
                break
        p, s, t = _char_weights(base)
        for mark in marks:
            s += _mark_weight(mark)
            t += chr(_TER_LOWER)
        return (p, s, t)
    if ch in _STROKED:
        return _string_weights(_STROKED[ch])
    if ch in _EXPANSIONS:
        p, s, t = _string_weights(_EXPANSIONS[ch])
        return (p, _SEC_RAISED + s[1:], t)
    compat = unicodedata.normalize("NFKD", ch)
    if compat != ch:  # fullwidth, superscript, ligature, "№"...
        p, s, t = _string_weights(compat)
        return (p, s, _variant(t))
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return (_BASE[str(digit)][0], _SEC_COMMON, chr(_TER_VARIANT))
    lower = ch.lower()
    if lower != ch and len(lower) == 1:
        p, s, _t = _char_weights(lower)
        return (p, s, chr(_TER_UPPER))
    if cat[0] == "P":
        group = "punct"
    elif cat == "Sc":
        group = "currency"
    elif cat[0] == "S":
        group = "symbol"
    elif cat[0] in "LN":
        group = "letter"
    else:
        group = "other"
    return (_PRIMARY_MARK[group] + ch, _SEC_COMMON, chr(_TER_LOWER))


class _LevelTable(dict):  # type: ignore[type-arg]
    """str.translate table for one level, filled on first use of a character."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def __missing__(self, code: int) -> str:
        weights = _char_weights(chr(code))
        for table in _TABLES:
            table[code] = weights[table.level]
        return weights[self.level]


_TABLES = (_LevelTable(0), _LevelTable(1), _LevelTable(2))
_P, _S, _T = _TABLES
# Fill the tables up front for the characters names are made of.
for _c in [*_BASE, *_JOIN.values(), *(v.upper() for v in _JOIN.values())]:
    _w = _char_weights(_c)
    for _table in _TABLES:
        _table[ord(_c)] = _w[_table.level]


def vi_key(s: str) -> tuple[str, str, str, str]:
    """Sort key giving the CLDR/ICU "vi" order of whole strings.

    Letters decide first (a < ă < â < b ... d < đ ... y), then tones
    (none < huyền < hỏi < ngã < sắc < nặng), then case (lower first).  Spaces
    and punctuation count, and sort before digits and letters, so "An Bình" <
    "Anh".  The input is NFC-normalised first; it is not stripped.
    """
    s = unicodedata.normalize("NFC", s)
    return (s.translate(_P), s.translate(_S), s.translate(_T), s)


_word_key = lru_cache(maxsize=1 << 16)(vi_key)
_EMPTY_KEY = vi_key("")


def person_key(full_name: str) -> tuple[Any, ...]:
    """Sort key for personal names in official lists.

    By given name (last word), then the middle names in order, then the family
    name (first word), each compared with :func:`vi_key`; ties are broken by
    the whole name.  "Nguyễn Văn An" < "Trần Thị Ánh" < "Lê Bình".
    """
    name = clean(full_name) or ""
    if not name:
        return (_EMPTY_KEY, (), _EMPTY_KEY, "")
    words = name.split(" ")
    given = _word_key(words[-1])
    if len(words) == 1:
        return (given, (), _EMPTY_KEY, name)
    middles = tuple([_word_key(w) for w in words[1:-1]])
    # Equal word keys mean equal words (a vi_key ends with the text itself),
    # hence an equal cleaned name: comparing vi_key(name) as a last resort
    # could never decide anything, so the name itself closes the key.
    return (given, middles, _word_key(words[0]), name)


def sort_vi(items: Iterable[T], key: Callable[[T], str | None] | None = None,
            *, reverse: bool = False) -> list[T]:
    """Items sorted in Vietnamese order (``key`` picks the text; None sorts as "")."""
    if key is None:
        return sorted(items, key=lambda x: vi_key(x or ""), reverse=reverse)  # type: ignore[arg-type]
    return sorted(items, key=lambda x: vi_key(key(x) or ""), reverse=reverse)


def sort_people(items: Iterable[T], key: Callable[[T], str | None] | None = None,
                *, reverse: bool = False) -> list[T]:
    """Items sorted as an official list of names (see :func:`person_key`)."""
    if key is None:
        return sorted(items, key=lambda x: person_key(x or ""), reverse=reverse)  # type: ignore[arg-type]
    return sorted(items, key=lambda x: person_key(key(x) or ""), reverse=reverse)


@lru_cache(maxsize=1 << 12)
def fold_marks(s: str) -> str:
    """:func:`fold` without any diacritic either (đ counts as d): "Nguyễn Văn Hùng", "NGUYEN VAN
    HUNG" and "Nguyen Van Hung" give one key. Only to tell names that differ in their marks alone
    (which :func:`fold` keeps apart), never to decide that two names are the same."""
    s = unicodedata.normalize("NFD", fold(s))
    return "".join(c for c in s if not unicodedata.combining(c)).replace("đ", "d")
