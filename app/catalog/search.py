"""Service search in process: Chinese substrings, full pinyin, initials, English, one-typo tolerance.

A city's live catalog is tens to a few hundred services, so the catalog caches a list of `SearchDoc`
and builds a `SearchIndex` from it; nothing here touches the database (same on PostgreSQL and SQLite).
Why this approach and how scores are tiered: docs/search.md.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from pypinyin.seg import mmseg
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

MAX_QUERY_CHARS = 50
NAME, KEYWORD = 0, 1

# Score tiers (0-100). A hit in the name beats one in a keyword; exact characters beat sounds.
SUBSTRING = {(NAME, True): 100.0, (NAME, False): 90.0, (KEYWORD, True): 85.0, (KEYWORD, False): 80.0}
ENGLISH = {(NAME, True): 96.0, (NAME, False): 86.0, (KEYWORD, True): 84.0, (KEYWORD, False): 76.0}
# Pinyin typed as letters: whole syllables > initials > a mix (`gongjj`); +6 when it covers the whole field.
PINYIN_TYPED = {(NAME, "full"): 88.0, (NAME, "initials"): 85.0, (NAME, "loose"): 82.0}
PINYIN_TYPED |= {(KEYWORD, m): s - 10 for (_, m), s in PINYIN_TYPED.items()}
# Chinese characters that only match by sound (住房公基金) or mixed with letters (gjj查询): below exact text.
PINYIN_SOUND = {k: s - 12 for k, s in PINYIN_TYPED.items()}
WHOLE_FIELD_BONUS = 6.0
FUZZY_BASE = {NAME: 60.0, KEYWORD: 50.0}  # + 10 * (n - typos) / n: a one-typo hit lands between 60 and 70
BIGRAM_BASE, BIGRAM_MIN_SHARED, BIGRAM_MIN_COVERAGE = 50.0, 2, 0.34  # + 10 * share of the query's pairs
FUZZY_MAX = FUZZY_BASE[NAME] + 10

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_RUNS = re.compile(f"[{_HAN}]+|[^{_HAN}]+")
_WORDS = re.compile(r"[a-z0-9]+")

# Readings pypinyin's phrase table gets wrong for service words (it handles 银行, 重庆, 长途, 行驶证 ... itself).
# Kept local instead of pypinyin.load_phrases_dict, which would change the library for the whole process.
PHRASE_FIXES: dict[str, tuple[str, ...]] = {
    "还款": ("huan", "kuan"),
    "长护险": ("chang", "hu", "xian"),
    "重名": ("chong", "ming"),
    "调档": ("diao", "dang"),
    "单县": ("shan", "xian"),
}
_FIX_RE = re.compile("|".join(sorted(PHRASE_FIXES, key=len, reverse=True)))


@dataclass(frozen=True)
class SearchDoc:
    """What the catalog hands over per live service; `uses` (calls so far) breaks ties for popular services."""

    code: str
    name_zh: str
    name_en: str | None = None
    keywords: tuple[str, ...] = ()
    category: str = ""
    uses: int = 0

    def __post_init__(self):
        # Documents come back from a JSON cache with lists; keep them hashable and immutable.
        object.__setattr__(self, "keywords", tuple(k for k in self.keywords or () if k))
        object.__setattr__(self, "category", self.category or "")


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, only letters and digits (Chinese included)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


@lru_cache(maxsize=8192)
def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin of normalised text, one item per Chinese character; a run of letters or digits is one item."""
    out: list[str] = []
    for run in _RUNS.findall(text):
        if not _HAN_RUN.fullmatch(run):
            out.append(run)
            continue
        pos = 0
        for m in _FIX_RE.finditer(run):
            out.extend(_run_syllables(run[pos : m.start()]))
            out.extend(PHRASE_FIXES[m.group()])
            pos = m.end()
        out.extend(_run_syllables(run[pos:]))
    return tuple(out)


def _run_syllables(run: str) -> list[str]:
    # pypinyin's own word split (what lazy_pinyin does inside), each word converted once: service names
    # share most words (查询, 缴费, 预约 ...), so a cold index of 300 services builds several times faster.
    return [s for word in mmseg.seg.cut(run) for s in _word_syllables(word)] if run else []


@lru_cache(maxsize=8192)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word))


@dataclass(frozen=True, slots=True)
class Field:
    """One searchable text of a document, precomputed."""

    text: str  # normalised
    syllables: tuple[str, ...]
    full: str  # pinyin joined: zhufanggongjijinchaxun
    initials: str  # zfgjjcx

    @classmethod
    def of(cls, raw: str) -> Field:
        text = normalize(raw)
        syl = syllables(text)
        return cls(text, syl, "".join(syl), "".join(s[0] for s in syl if s))


class _Haystack:
    """Many fields joined into one string, so one C-level scan covers the whole index."""

    def __init__(self, segments: list[tuple[str, int, int]]):  # (text, doc index, NAME | KEYWORD)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.owners: list[tuple[int, int]] = []
        pos = 0
        for text, doc, kind in segments:
            self.starts.append(pos)
            self.ends.append(pos + len(text))
            self.owners.append((doc, kind))
            pos += len(text) + 1
        self.text = "\n".join(t for t, _, _ in segments)

    def segment(self, pos: int) -> int:
        return bisect_right(self.starts, pos) - 1


class SearchIndex:
    def __init__(self, docs):
        self.docs: list[SearchDoc] = list(docs)
        self.names: list[Field] = []
        self.keywords: list[tuple[Field, ...]] = []
        self.bigrams: list[frozenset[str]] = []
        text_segments, pinyin_segments, english_segments, english_names = [], [], [], []
        for i, doc in enumerate(self.docs):
            name = Field.of(doc.name_zh)
            others = (*doc.keywords, doc.category)
            kws = tuple(Field.of(k) for k in others if normalize(k))
            self.names.append(name)
            self.keywords.append(kws)
            self.bigrams.append(frozenset(b for f in (name, *kws) for b in _bigrams(f.text)))
            for field, kind in ((name, NAME), *((k, KEYWORD) for k in kws)):
                text_segments.append((field.text, i, kind))
                pinyin_segments.append(("|" + "|".join(field.syllables) + "|", i, kind))
            english_names.append(_english_words(doc.name_en or ""))
            for words, kind in ((english_names[-1], NAME), *((_english_words(k), KEYWORD) for k in others)):
                if words:
                    english_segments.append((" " + " ".join(words), i, kind))
        self._text = _Haystack(text_segments)  # 住房公积金查询
        self._pinyin = _Haystack(pinyin_segments)  # |zhu|fang|gong|ji|jin|cha|xun|
        self._english = _Haystack(english_segments)  # " housing provident fund inquiry"
        # One typo-search string per document and field kind, with where a typo match may start.
        self._fuzzy_text = {
            NAME: _choices([(n.text,) for n in self.names]),
            KEYWORD: _choices([tuple(k.text for k in ks) for ks in self.keywords]),
        }
        self._fuzzy_pinyin = {
            NAME: _choices([n.syllables for n in self.names], joined=True),
            KEYWORD: _choices(
                [tuple(s for k in ks for s in (*k.syllables, "\n")) for ks in self.keywords], joined=True
            ),
        }
        self._fuzzy_english = _choices([tuple(f"{w} " for w in words) for words in english_names], joined=True)

    def __len__(self) -> int:
        return len(self.docs)

    def search(self, query: str | None, limit: int = 20) -> list[tuple[str, float]]:
        """(code, score) best first; ties go to the more used service, then the code."""
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        text = normalize(query)
        if not text or limit <= 0:
            return []
        best: dict[int, float] = {}  # document index -> its best score so far
        has_han = bool(_HAN_RUN.search(text))
        self._substring(text, best)
        self._pinyin_match(text, has_han, best)
        if not has_han:
            self._english_match(query, best)
        # Typo and word-pair hits score at most FUZZY_MAX: skip them when `limit` stronger hits are already in.
        if sum(score > FUZZY_MAX for score in best.values()) < limit:
            self._fuzzy(text, has_han, best)
            if has_han and len(text) >= 3:
                self._bigram_cover(text, best)
        ranked = sorted(best.items(), key=lambda kv: (-round(kv[1], 2), -self.docs[kv[0]].uses, self.docs[kv[0]].code))
        return [(self.docs[i].code, round(s, 2)) for i, s in ranked[:limit]]

    # --- stages; each raises best[doc] to the score of what it found ---

    def _substring(self, text: str, best: dict[int, float]) -> None:
        hay = self._text
        pos = hay.text.find(text)
        while pos >= 0:
            seg = hay.segment(pos)
            doc, kind = hay.owners[seg]
            _raise(best, doc, SUBSTRING[kind, pos == hay.starts[seg] and pos + len(text) == hay.ends[seg]])
            pos = hay.text.find(text, pos + 1)

    def _pinyin_match(self, text: str, has_han: bool, best: dict[int, float]) -> None:
        units = _query_units(text)
        if not has_han and not any(c.isalpha() for _, c in units):
            return  # digits only: the substring stage has them
        table = PINYIN_SOUND if has_han else PINYIN_TYPED
        hay = self._pinyin
        loose = _pattern(units, "loose")
        stricter = [(mode, _pattern(units, mode)) for mode in ("full", "initials")]
        # `loose` accepts everything the stricter modes accept: scan the index once, grade only the fields it found.
        for m in loose.finditer(hay.text):
            seg = hay.segment(m.start())
            doc, kind = hay.owners[seg]
            start, end = hay.starts[seg], hay.ends[seg]
            mode, found = "loose", m
            for name, pat in stricter:
                if found_strict := pat.search(hay.text, start, end):
                    mode, found = name, found_strict
                    break
            whole = found.start() == start and "|" not in hay.text[found.end() : end - 1]
            _raise(best, doc, table[kind, mode] + (WHOLE_FIELD_BONUS if whole else 0.0))

    def _english_match(self, query: str, best: dict[int, float]) -> None:
        """Every word typed starts a word of the English name or of an English keyword (housing fund)."""
        words = _english_words(query)
        if sum(map(len, words)) < 2:
            return
        hay, seen = self._english, set()
        pos = hay.text.find(" " + words[0])
        while pos >= 0:
            seg = hay.segment(pos)
            if seg not in seen:
                seen.add(seg)
                field = hay.text[hay.starts[seg] : hay.ends[seg]]
                if all(" " + w in field for w in words[1:]):
                    doc, kind = hay.owners[seg]
                    _raise(best, doc, ENGLISH[kind, field == " " + " ".join(words)])
            pos = hay.text.find(" " + words[0], pos + 1)

    def _fuzzy(self, text: str, has_han: bool, best: dict[int, float]) -> None:
        """One typo: a character (or a pinyin letter) replaced, missing or added."""
        if has_han:
            if len(text) < 3:
                return  # a two-character typo is a guess, not a search
            searches = [(text, kind, choices) for kind, choices in self._fuzzy_text.items()]
        else:
            letters = "".join(c for _, c in _query_units(text))
            words = " ".join(_english_words(text))
            searches = [(letters, kind, choices) for kind, choices in self._fuzzy_pinyin.items()]
            searches.append((words, NAME, self._fuzzy_english))
            if len(letters) < 5:
                return
        for query, kind, (strings, starts) in searches:
            n = len(query)
            # rapidfuzz narrows 300 strings down in C: one typo costs at most 2 of its Indel distance in any
            # window of the query's length. The margin covers its rounding of the cutoff; _typo_distance decides.
            cutoff = 100.0 * (n - 1) / n - 1.0
            for _, _, doc in process.extract(
                query, strings, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
            ):
                if best.get(doc, 0.0) >= FUZZY_BASE[kind] + 10:
                    continue  # a typo match here cannot raise what this service already has
                distance = _typo_distance(query, strings[doc], starts[doc])
                if distance is not None:
                    _raise(best, doc, FUZZY_BASE[kind] + 10.0 * (n - distance) / n)

    def _bigram_cover(self, text: str, best: dict[int, float]) -> None:
        """Words out of order or inside a sentence (查询公积金, 我要查公积金): shared pairs of characters."""
        wanted = set(_bigrams(text))
        for doc, have in enumerate(self.bigrams):
            shared = len(wanted & have)
            if shared >= BIGRAM_MIN_SHARED and shared / len(wanted) >= BIGRAM_MIN_COVERAGE:
                _raise(best, doc, BIGRAM_BASE + 10 * shared / len(wanted))


def index(docs) -> SearchIndex:
    return SearchIndex(docs)


def _raise(best: dict[int, float], doc: int, score: float) -> None:
    if score > best.get(doc, 0.0):
        best[doc] = score


def _choices(docs: list[tuple[str, ...]], joined: bool = False) -> tuple[list[str], list[range | frozenset[int]]]:
    """Per document one string for rapidfuzz, and the offsets a typo match may start at.

    Chinese texts (`joined=False`, one item per field) may match from any character; pinyin and English
    (`joined=True`, one item per syllable or word) only from a syllable or word start, so `anqi` inside
    `nuanqi` is no near miss of `ranqi`.
    """
    strings, starts = [], []
    for parts in docs:
        text = "\n".join(parts) if not joined else "".join(parts)
        strings.append(text)
        if joined:
            offsets = [0]
            for part in parts:
                offsets.append(offsets[-1] + len(part))
            starts.append(frozenset(offsets))
        else:
            starts.append(range(len(text)))
    return strings, starts


def _typo_distance(query: str, text: str, starts: range | frozenset[int]) -> int | None:
    """Fewest edits (0 or 1) that turn the query into a stretch of the text beginning at one of `starts`."""
    n, best = len(query), None
    for start in starts:
        for size in (n, n - 1, n + 1):
            if start + size > len(text):
                continue
            d = Levenshtein.distance(query, text[start : start + size], score_cutoff=1)
            if d == 0:
                return 0
            if d == 1:
                best = 1
    return best


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def _english_words(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(unicodedata.normalize("NFKC", text).lower()))


def _query_units(text: str) -> list[tuple[str, str]]:
    """Letters and digits as typed ("letter"), Chinese characters as their syllables ("syl")."""
    units: list[tuple[str, str]] = []
    for run in _RUNS.findall(text):
        if _HAN_RUN.fullmatch(run):
            units.extend(("syl", s) for s in syllables(run))
        else:
            units.extend(("letter", c) for c in run.replace("ü", "v") if c.isascii() and c.isalnum())
    return units


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _pattern(units: list[tuple[str, str]], mode: str) -> re.Pattern:
    """A regex over `|zhu|fang|gong|ji|jin|` fields: matches a run of neighbouring syllables.

    Each typed letter either continues the current syllable or starts the next one:
    `full` lets it start the next one only where the current one is complete (gongjijin),
    `initials` makes every letter start a syllable (gjj), `loose` allows both (gongjj, zhfgjj).
    A Chinese character must be a whole syllable (its sound: 基 matches 积).
    """
    parts = [r"\|"]
    state = "start"  # "start": at a syllable's first letter; "after": a whole syllable matched; "inside": mid-syllable
    for kind, value in units:
        if kind == "syl":
            step = {"start": "", "after": r"\|", "inside": r"\|" if mode == "full" else r"[^|\n]*\|"}[state]
            parts.append(step + re.escape(value) + r"(?=\|)")
            state = "after"
        else:
            if state == "after":
                parts.append(r"\|")
            elif state == "inside":
                parts.append({"full": r"\|?", "initials": r"[^|\n]*\|", "loose": r"(?:[^|\n]*\|)?"}[mode])
            parts.append(value)
            state = "inside"
    return _compile("".join(parts))
