"""Words of a text, once for every layer: keyword queries and the keyword index (memory/search.py), what a message
is about and whether a memory shares its subject (bot/reply). It lives in memory/ because the lowest layer needs
it and imports nothing of ours; bot/ uses the same functions.

Every language the same way (memory/lang.py tells a text's language):
- words are Unicode letters, digits and marks (Devanagari's vowel signs are part of a word), lower-cased, in NFC;
  Arabic-script vowel marks and tatweel are dropped and Persian's zero-width non-joiner joins. A script written
  without spaces (Chinese, Japanese) gives the overlapping pairs of its characters ("我的狗叫巴龙" → 我的 的狗
  狗叫 叫巴 巴龙): most Chinese words are two characters, and a pair needs no dictionary;
- stopwords: English's own short list (kept: it was tuned on LoCoMo, and the ISO list holds "name", "home",
  "work"), the stopwords-iso list of every other language less the nouns and verbs it holds (Words.meaningful:
  "trabajo", "машина", "отец" are a subject: "¿Dónde trabajo?" was declined though told);
- a word's normal form for matching: the Snowball stemmer of its language (PyStemmer: English, Russian, Spanish,
  Portuguese, German, French, Italian, Turkish, Persian, Arabic, Indonesian, Hindi…), simplemma's lemma where
  Snowball has none (Ukrainian), the word itself otherwise (Chinese pairs). A word is normalised in the text's
  language only if it is written in that language's script (a Latin name in a Russian message is left alone).
  For a message's subject (content_words) two more: a word for a person keeps its sex where Snowball merges it
  (hermano / hermana, irmão / irmã: Words.kin), and a Persian word loses its possessive ending (برادرم, my
  brother → برادر), so "my brother" meets neither "my sister" nor nothing.
- Persian and Arabic in the keyword index (index_terms, query_terms), beside the word as read: its letters folded
  (Arabic ي ى and ك written for Persian ی and ک, as an Arabic keyboard types them) and, for a word written with a
  zero-width non-joiner, the word without the endings the joiner sets off (‌ی, ‌ای, ‌ها, ‌های, ‌ام, ‌اش…):
  "درباره‌ی" is found as "درباره", "آژانس‌های" as "آژانس". Joined without its joiner the word is another word
  ("دربارهی") that the bare word never meets, and the Persian Snowball stemmer removes none of these. A verb's
  می‌ stays (without it, "می‌کرد" would be the light verb "کرد" of a great many sentences). A Persian word is also
  indexed and asked without its possessive ending, as content_words compares it ("مادربزرگم" → "مادربزرگ").
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from typing import Any

import regex

from memory.lang import (
    DEFAULT,
    FA_NOT_MINE,
    FA_POSSESSIVE,
    FEMININE,
    FIRST_PERSON,
    TR_MINE,
    TR_NOT_MINE,
    UNSPACED,
    WORDS,
    language_of,
    script_of,
)

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")
_UNSPACED_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}ー]+")
_ARABIC_MARKS = regex.compile(r"[\u064B-\u065F\u0670\u0640]")
_ZWNJ = "\u200c"
# Arabic letters a Persian text may be typed with (an Arabic keyboard), folded to the Persian ones for matching.
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
_JOINED = regex.compile(r"[\p{L}\p{M}\u200c]*\u200c[\p{L}\p{M}\u200c]*")
# Pieces at the end of a Persian word that the zero-width non-joiner sets off and that are only endings (folded
# letters): ezafe, indefinite, plural, possessive, copula, comparative.
_FA_SUFFIXES = frozenset("ی ای ها های هایی هایم هایت هایش هایمان هایتان هایشان ام ات اش مان تان شان اند ایم اید "
                         "است تر ترین".split())

# Words too common to tell what an English text is about: never a keyword match, never shared subject matter. The
# vector side of recall still sees them.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could d did didn do does doesn doing don down during each either ever every few for
    from further had has have having he her here hers herself him himself his how i if in into is isn it its itself
    just ll m may me might more most much must my myself never no nor not now of off on once only or other our ours
    ourselves out over own re s same shall she should so some such t than that the their theirs them themselves
    then there these they this those through to too under until up us ve very was wasn we were weren what when
    where which while who whom whose why will with won would yes you your yours yourself yourselves""".split()
)
# English words of asking about a memory ("tell me what I said my dog is called"): nothing of its subject, unless
# they are all a question has ("What is my name?", "Do you know my name?": see content_words' `asking`). Every
# language's are in memory/lang.py (Words.asking).
ASKING = WORDS["en"].asking

# Snowball's algorithm for each language that has one; Ukrainian has simplemma's lemmas instead.
_SNOWBALL = {"en": "english", "ru": "russian", "es": "spanish", "pt": "portuguese", "de": "german",
             "fr": "french", "it": "italian", "tr": "turkish", "fa": "persian", "ar": "arabic",
             "id": "indonesian", "hi": "hindi", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian",
             "fi": "finnish", "hu": "hungarian", "ro": "romanian", "pl": "polish", "cs": "czech", "el": "greek",
             "ca": "catalan", "eu": "basque", "lt": "lithuanian", "hy": "armenian", "ne": "nepali", "ta": "tamil",
             "sr": "serbian", "ga": "irish", "et": "estonian", "yi": "yiddish", "eo": "esperanto"}
_LEMMAS = frozenset({"uk"})
# The script each language's words are written in, for normalising only a language's own words.
_SCRIPT = {"ru": "cyrillic", "uk": "cyrillic", "sr": "cyrillic", "fa": "arabic", "ar": "arabic", "hi": "devanagari",
           "ne": "devanagari", "el": "greek", "hy": "armenian", "ta": "tamil", "yi": "hebrew", "zh": "han",
           "ja": "han"}


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    if _ZWNJ in text:
        text = text.replace(_ZWNJ, "")
    return _ARABIC_MARKS.sub("", text)


def words(text: str) -> list[str]:
    """All the words of a text, lower-cased, stopwords included, in order (pairs of characters for Chinese)."""
    out: list[str] = []
    for word in _WORD.findall(_clean(text)):
        if _UNSPACED_RUN.search(word):
            out.extend(_split_unspaced(word))
        else:
            out.append(word)
    return out


def _split_unspaced(word: str) -> list[str]:
    """A word holding a run of Chinese or Japanese characters: the run as overlapping pairs, the rest as words."""
    out: list[str] = []
    position = 0
    for run in _UNSPACED_RUN.finditer(word):
        if run.start() > position:
            out.append(word[position:run.start()])
        chars = run.group()
        out.extend([chars] if len(chars) == 1 else [chars[i:i + 2] for i in range(len(chars) - 1)])
        position = run.end()
    if position < len(word):
        out.append(word[position:])
    return out


@functools.cache
def stopwords(lang: str) -> frozenset[str]:
    """A language's stopwords (English's own list; stopwords-iso's for the others, none for one it lacks)."""
    if lang == "en":
        return STOPWORDS
    import stopwordsiso
    if not stopwordsiso.has_lang(lang):
        return frozenset()
    meaningful = WORDS[lang].meaningful if lang in WORDS else frozenset()
    return frozenset(_clean(w) for w in stopwordsiso.stopwords(lang)) - {_clean(w) for w in meaningful}


def _unasked(lang: str) -> frozenset[str]:
    """Characters that make a Chinese pair a piece of a question word (什么 gives 叫什 and 么名): not a subject."""
    return frozenset("".join(WORDS[lang].anywhere)) if lang in UNSPACED and lang in WORDS else frozenset()


def keywords(text: str, lang: str | None = None) -> list[str]:
    """The words of a text worth matching, de-duplicated, in order (`lang`: the text's language if known)."""
    lang = lang or language_of(text)
    stop, unasked = stopwords(lang), _unasked(lang)
    return list(dict.fromkeys(w for w in words(text) if w not in stop and not (unasked and set(w) & unasked)))


def stem(word: str) -> str:
    """A rough English stem: "parked", "parks" -> "park"; "researching" -> "resea"; "likes", "liked" -> "lik"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:5]


_stemmers: dict[str, Any] = {}
_stemmers_lock = threading.Lock()  # a PyStemmer object is not safe to share between threads: one at a time


def _snowball(word: str, lang: str) -> str:
    with _stemmers_lock:
        if lang not in _stemmers:
            import Stemmer
            _stemmers[lang] = Stemmer.Stemmer(_SNOWBALL[lang])
        return _stemmers[lang].stemWord(word)


@functools.lru_cache(maxsize=65536)
def normal(word: str, lang: str) -> str:
    """A word's form for matching in its language: "собаку", "собака" → "собак"; "parked" → "park"; "我的" stays."""
    expected = _SCRIPT.get(lang, "latin")
    if not word or script_of(word[0]) != expected:
        return word
    if lang in _SNOWBALL:
        return _snowball(word, lang) or word
    if lang in _LEMMAS:
        import simplemma
        return simplemma.lemmatize(word, lang=lang).lower() or word
    return word


def subject_form(word: str, lang: str) -> str:
    """A word's form for comparing subjects (content_words): its normal form, with a person's sex kept where
    Snowball merges it ("hermana" → "herman♀", "hermano" → "herman") and a Persian possessive or personal
    ending dropped ("برادرم" → "برادر")."""
    form = normal(word, lang)
    table = WORDS.get(lang)
    if table is not None and table.kin and form in table.kin and word.endswith(FEMININE.get(lang, ())):
        return form + "♀"
    if lang == "fa" and word not in FA_NOT_MINE:
        for ending in FA_POSSESSIVE:
            if word.endswith(ending) and len(word) - len(ending) >= 2:
                return word[: -len(ending)]
    return form


def first_person(word: str, lang: str) -> bool:
    """The word says "I" or "my" by its ending: a regular verb's first person ("trabajo": its stem makes a verb,
    trabajar), a Persian possessive or verb ending ("برادرم", "می‌کنم"), a Turkish one ("kardeşim", "arabam").
    Stopwords and question words are not ("como" is also "I eat")."""
    word = _clean(word)
    if lang in WORDS and word in WORDS[lang].first:
        return True
    if lang == "fa":
        return (len(word) >= 3 and word.endswith("م") and word not in FA_NOT_MINE
                and word not in WORDS["fa"].anywhere)
    if lang == "tr":
        base = normal(word, lang)
        return (len(word) >= 4 and word not in TR_NOT_MINE and word not in WORDS["tr"].anywhere
                and word.startswith(base) and regex.fullmatch(TR_MINE, word[len(base):]) is not None)
    if lang not in FIRST_PERSON or word in stopwords(lang) or word in WORDS[lang].starts:
        return False
    ending, infinitives = FIRST_PERSON[lang]
    if not word.endswith(ending) or len(word) < 4:
        return False
    import simplemma
    stem = word[: -len(ending)]
    return any(simplemma.is_known(stem + infinitive, lang=lang) for infinitive in infinitives)


def _arabic_script_forms(text: str) -> dict[str, str]:
    """For each word of a text (as words() gives it) that is written in the Arabic script with a letter to fold
    or a zero-width non-joiner: its matching form (letters folded, the affixes the joiner sets off dropped)."""
    if not regex.search(r"[\u0600-\u06FF]", text):
        return {}
    out: dict[str, str] = {}
    cleaned = unicodedata.normalize("NFC", text).lower()
    for token in _JOINED.findall(cleaned):
        parts = [p for p in _ARABIC_MARKS.sub("", token).translate(_FOLD).split(_ZWNJ) if p]
        while len(parts) > 1 and parts[-1] in _FA_SUFFIXES:
            parts = parts[:-1]
        for word in words(token):
            if len(word) > 1 and script_of(word[0]) == "arabic":
                out[word] = "".join(parts)
    for word in words(text):
        if word not in out and script_of(word[0]) == "arabic" and word.translate(_FOLD) != word:
            out[word] = word.translate(_FOLD)
    return out


def _forms(word: str, lang: str, arabic: dict[str, str]) -> tuple[str, ...]:
    """The index terms of a word: as written, its normal form, and for the Arabic script its matching form and
    that form's normal form (_arabic_script_forms)."""
    forms = [word, normal(word, lang)]
    if word in arabic and arabic[word] not in stopwords(lang):
        forms += [arabic[word], normal(arabic[word], lang)]
    if lang == "fa" and script_of(word[0]) == "arabic":  # without a possessive ending: مادربزرگم → مادربزرگ
        forms.append(subject_form(word, lang))
    return tuple(dict.fromkeys(f for f in forms if f))


def index_terms(text: str, sender: str = "", lang: str | None = None) -> str:
    """What the keyword index holds for a message (migration m010): each word of the sender's name and the text,
    and its normal form where that differs (and a Persian or Arabic word's matching form: _arabic_script_forms),
    separated by spaces."""
    lang = lang or language_of(text)
    both = f"{sender} {text}"
    arabic = _arabic_script_forms(both)
    return " ".join(form for word in words(both) for form in _forms(word, lang, arabic))


def query_terms(text: str, lang: str | None = None) -> list[tuple[str, ...]]:
    """The keywords of a query, each as the index terms that match it (the word, and its normal form when that
    differs): a memory in the same language meets it by the normal form, a memory whose language was read
    differently still by the word as written."""
    lang = lang or language_of(text)
    arabic = _arabic_script_forms(text)
    return [_forms(w, lang, arabic) for w in keywords(text, lang)]


def content_words(text: str, asking: bool = False, lang: str | None = None) -> set[str]:
    """The words that carry meaning, in their normal form, so "researching" meets "research", "собаку" "собака".
    The words of asking (Words.asking) are left out; with `asking`, for a question that has no other subject
    ("What is my name?", "Как меня зовут?"), those that name a name are kept, as "name".

    `lang`: read the text as this language (a memory compared with a question is read in the question's);
    its own by default. English keeps its rough stem (stem above: the relevance gate was tuned with it)."""
    lang = lang or language_of(text)
    table = WORDS.get(lang, WORDS[DEFAULT])
    out = set()
    for w in keywords(text, lang):
        if len(w) < 2 and lang not in UNSPACED:
            continue
        named = asking and w in table.naming
        if lang in UNSPACED:
            if any(a in w for a in table.asking) and not named:
                continue
        elif (w in table.asking and not named) or w in table.self:  # "моего", "mi": the asker, not a subject
            continue
        if named:
            out.add("name")
        else:
            out.add(stem(w) if lang == "en" else subject_form(w, lang))
    return out
