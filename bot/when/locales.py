"""What dateparser needs besides its own locale tables to read reminders and time phrases in a language.

dateparser (languages=[…]) reads dates, times and relative phrases in 200+ locales and can translate a phrase
into English words (`1 week ago`, `monday`, `hour`). What it lacks, and is here, per language:
- the words that make a message a reminder request ("напомни мне", "recuérdame", "یادم بنداز");
- the recurrence heads ("каждый", "cada", "jeden", "هر") and one-word rules ("ежедневно", "täglich");
- the word before a bare clock hour ("в 9", "a las 9", "um 9", "ساعت ۹"), which dateparser reads as a day or
  ignores: it becomes "9:00";
- the parts of the day ("вечером", "por la tarde", "abends", "شب", "щовечора"), which dateparser has no words
  for (CLDR's day periods in Babel cover only some of these languages, and in one form each): "каждый вечер в 9"
  and "завтра в 9 вечера" are 21:00, "завтра утром" 09:00 (bot/reminders/parse.py PART_TIMES);
- the small words that link the time to the reminder's text ("о", "que", "dass", "که") and may not end a time;
- a few common phrasings dateparser misses, rewritten into ones it reads ("پارسال" -> "سال گذشته",
  "daqui a" -> "em", "۱۰ دقیقه دیگر" -> "10 دقیقه بعد", "pasado mañana" -> "en 2 días"), and Persian and
  Arabic-Indic digits as ASCII.

English is the base: the reminder grammar (bot/reminders/parse.py) and the recall windows (bot/when/phrases.py)
are written for English words, and other languages are read through dateparser's translation into them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

# The languages reminders and time phrases are tested in (tests/test_reminder_languages.py). Others still
# go through dateparser with its own tables; only the words below are missing for them.
LANGUAGES = ("en", "ru", "uk", "es", "pt", "de", "fa")

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def _words_as(pairs: str) -> tuple[tuple[str, str], ...]:
    """'январе:январь марте:март' as rewrites of whole words."""
    return tuple((rf"\b{a}\b", b) for a, b in (pair.split(":") for pair in pairs.split()))


# Months after "в" / "у" ("в ноябре", "у листопаді"): dateparser knows their nominative and genitive only.
_RU_MONTHS = _words_as("январе:январь феврале:февраль марте:март апреле:апрель мае:май июне:июнь июле:июль "
                       "августе:август сентябре:сентябрь октябре:октябрь ноябре:ноябрь декабре:декабрь")
_UK_MONTHS = _words_as("січні:січень лютому:лютий березні:березень квітні:квітень травні:травень червні:червень "
                       "липні:липень серпні:серпень вересні:вересень жовтні:жовтень листопаді:листопад грудні:грудень")
# "кожного понеділка": the genitive weekdays, which dateparser's Ukrainian tables lack.
_UK_WEEKDAYS = _words_as("понеділка:понеділок вівторка:вівторок середи:середа четверга:четвер п'ятниці:п'ятниця "
                         "суботи:субота неділі:неділя")


# "às 20h", "a las 8h30": a clock written with "h" (Portuguese, Spanish), which dateparser reads as hours ago; only
# after the word for "at", as "2h" alone is two hours.
_H_CLOCK = ((r"\b(às|as|à|a las|a la) (\d{1,2})h(\d\d)\b", r"\1 \2:\3"),
            (r"\b(às|as|à|a las|a la) (\d{1,2})h\b", r"\1 \2:00"))


@dataclass(frozen=True)
class TimeWords:
    request: str  # regex: the words that ask for a reminder
    polite: frozenset[str] = frozenset()  # words allowed before them ("please", "пожалуйста")
    every: tuple[str, ...] = ()  # recurrence heads, longest first; "every" in English
    daily: frozenset[str] = frozenset()  # one word meaning "every day"
    clock: str = ""  # regex: the word(s) before a clock hour
    fillers: frozenset[str] = frozenset()  # words between the time and the text, dropped from the text's start
    dangling: frozenset[str] = frozenset()  # words a time phrase cannot end with
    rewrites: tuple[tuple[str, str], ...] = ()  # (regex, replacement) before dateparser
    drop: frozenset[str] = frozenset()  # words dateparser stumbles on inside a phrase ("el viernes")
    midnight: tuple[str, ...] = ()
    # (morning | afternoon | evening | night, regex): a part of the day, with the little words it comes with
    # ("por la tarde", "in the evening"), in any form a time phrase or a recurrence uses ("вечер", "вечером",
    # "вечера", "по вечерам"); a word that is also something else ("mañana" tomorrow, "morgen") only where it
    # cannot be that (after "cada", "jeden")
    parts: tuple[tuple[str, str], ...] = ()
    glued: str = ""  # a prefix meaning "every" written as one word with a weekday or a part of the day ("щосуботи")
    # (regex, replacement) on a whole request before it is split into "when" and "what": ways of saying a rule
    # that its recurrence words do not cover ("every other day" -> "every 2 days", "on Sundays" -> "every Sunday")
    spoken: tuple[tuple[str, str], ...] = ()


WORDS: dict[str, TimeWords] = {
    "en": TimeWords(
        # "remind me", and the other ways people ask for one: "ping me in 20 minutes", "don't let me forget to…",
        # "I need a reminder to…", "set me a reminder for…". Not "help me remember…": that asks what was said.
        request=(r"remind me|(?:set|add|create|make|schedule|put in|give me)(?: up)?(?: me)? an?"
                 r"(?: (?:daily|weekly|monthly|quick|new|recurring))? reminder(?: for me)?"
                 r"|i(?: need| want|'d like| would like) an? reminder|(?:ping|nudge|buzz|alert|notify) me"
                 r"|(?:don'?t|do not) let me forget|make sure i (?:don'?t forget|do not forget|remember)"),
        polite=frozenset({"please", "pls", "hey", "hi", "ok", "okay", "engram", "can", "could", "would", "will",
                          "you", "kindly", "and", "also", "so", "oh", "then", "just", "bot"}),
        every=("every", "each"), daily=frozenset({"daily"}), clock=r"at",
        fillers=frozenset({"to", "about", "that", "of", "for"}),
        dangling=frozenset({"at", "on", "in", "the", "to", "about", "for", "of", "a", "an", "and", "that", "by",
                            "after", "before", "from", "until", "past"}),
        midnight=("midnight", "12 am", "12am"),
        rewrites=((r"\bhalf an hour\b", "30 minutes"),),
        parts=(("morning", r"(?:this |in the )?mornings?"), ("afternoon", r"(?:this |in the )?afternoons?"),
               ("evening", r"(?:this |in the )?evenings?"), ("night", r"(?:at |in the )?nights?|tonight"),
               ("lunch", r"(?:at |around |by )?lunch ?time|(?:at |around |by |after |before )lunch")),
        spoken=((r"\bevery other (day|week|month)\b", r"every 2 \1s"),
                (r"\b(?:weekly )?on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)s\b", r"every \1"),
                (r"\bweekly on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", r"every \1"),
                (r"\bweekly\b", "every week")),
    ),
    "ru": TimeWords(
        request=r"напомни(?:те)?(?:\s+мне)?|поставь(?:те)? напоминание",
        polite=frozenset({"пожалуйста", "ну", "эй", "бот", "можешь", "можете", "и", "ещё", "еще", "привет"}),
        every=("каждый", "каждую", "каждое", "каждые", "каждого"), daily=frozenset({"ежедневно"}),
        clock=r"в|во", fillers=frozenset({"о", "об", "про", "что", "чтобы", "мне"}),
        rewrites=((r"\bполчаса\b", "30 минут"), *_RU_MONTHS),
        dangling=frozenset({"в", "во", "на", "через", "о", "об", "к", "до", "после", "и", "с"}),
        midnight=("полночь",),
        parts=(("morning", r"утр(?:о|а|ом)|по утрам"), ("afternoon", r"дн[её]м|(?<=:00 )дня|(?<=часа )дня"),
               ("evening", r"вечер(?:ом|а)?|по вечерам"), ("night", r"ноч(?:ь|и|ью)|по ночам")),
    ),
    "uk": TimeWords(
        request=r"нагадай(?:те)?(?:\s+мені)?|постав(?:те)? нагадування",
        polite=frozenset({"будь", "ласка", "будь-ласка", "ну", "гей", "бот", "можеш", "можете", "і", "ще",
                          "привіт"}),
        every=("кожного", "кожної", "кожен", "кожний", "кожну", "кожне", "кожні"),
        daily=frozenset({"щодня", "щоденно", "щоранку", "щовечора", "щоночі"}), glued="що",
        clock=r"о|об", fillers=frozenset({"про", "що", "щоб", "мені"}),
        dangling=frozenset({"в", "у", "на", "через", "о", "об", "до", "після", "і", "з"}),
        # dateparser's Ukrainian tables lack "в/у п'ятницю" (dropped words), months after "у", genitive weekdays
        rewrites=((r"\bпівгодини\b", "30 хвилин"), (r"\bчерез (годину|хвилину|тиждень|день)\b", r"через 1 \1"),
                  *_UK_MONTHS, *_UK_WEEKDAYS),
        drop=frozenset({"в", "у"}),
        midnight=("північ", "опівночі"),
        parts=(("morning", r"ран(?:ок|ку|ком)|вранці|уранці|зранку|щоранку"),
               ("afternoon", r"вдень|удень|(?<=:00 )дня|(?<=години )дня"),
               ("evening", r"вечір|вечора|ввечері|увечері|щовечора|вечорами"),
               ("night", r"ніч|ночі|вночі|уночі|щоночі|ночами")),
    ),
    "es": TimeWords(
        # not a bare "recuerda": "Recuerda que mañana es el cumpleaños de Ana" tells a fact, like "remember that"
        request=r"recu[eé]rd(?:ame|eme|amelo)|me recuerdas|(?:pon|ponme|crea) un recordatorio",
        polite=frozenset({"por", "favor", "oye", "hola", "puedes", "podrías", "podrias", "y", "también", "bot"}),
        every=("todos los", "todas las", "cada"), daily=frozenset({"diariamente"}), clock=r"a las|a la",
        fillers=frozenset({"que", "de", "para"}),
        dangling=frozenset({"a", "las", "la", "el", "en", "de", "del", "para", "y", "dentro", "por"}),
        rewrites=((r"\bpasado mañana\b", "en 2 días"), (r"\bmedia hora\b", "30 minutos"), *_H_CLOCK),
        drop=frozenset({"el"}), midnight=("medianoche",),
        parts=(("morning", r"(?:(?:por|en|de) la )?mañanas|(?:por|en|de) la mañana|(?<=cada )mañana"),
               ("afternoon", r"(?:(?:por|en|de) la )?tardes?"), ("night", r"(?:(?:por|en|de) la |esta )?noches?")),
    ),
    "pt": TimeWords(
        request=r"lembr(?:a|e)-me|me lembr(?:a|e)|lembrar-me|(?:cria|crie) um lembrete",
        polite=frozenset({"por", "favor", "oi", "olá", "pode", "podes", "você", "voce", "e", "também", "bot"}),
        every=("todos os", "todas as", "cada", "toda", "todo"), daily=frozenset({"diariamente"}), clock=r"às|as|à",
        fillers=frozenset({"de", "que", "para"}),
        dangling=frozenset({"às", "as", "a", "o", "em", "de", "do", "da", "no", "na", "para", "e", "daqui"}),
        rewrites=((r"\bdaqui a\b", "em"), (r"\bdentro de\b", "em"), (r"\bdepois de amanhã\b", "em 2 dias"),
                  (r"\bmeia hora\b", "30 minutos"), *_H_CLOCK),
        drop=frozenset({"na", "no"}),
        midnight=("meia-noite", "meia noite"),
        parts=(("morning", r"(?:(?:de|pela|na|à) )?manhãs?"), ("afternoon", r"(?:(?:à|de|pela|na) )?tardes?"),
               ("night", r"(?:(?:à|de|pela|na|esta) )?noites?")),
    ),
    "de": TimeWords(
        request=r"erinnere? mich(?!\s+nicht\b)|(?:stell|setz)e? (?:mir )?eine erinnerung",
        polite=frozenset({"bitte", "hey", "hallo", "kannst", "du", "könntest", "und", "auch", "bot"}),
        every=("jeden", "jede", "jedes", "alle"), daily=frozenset({"täglich"}), clock=r"um", drop=frozenset({"am"}),
        rewrites=((r"\b(\d{1,2}):(\d\d) uhr\b", r"\1:\2"), (r"\b(\d{1,2}) uhr\b", r"\1:00"),
                  (r"\b(?:eine|einer) halben? stunde\b", "30 minuten")),
        fillers=frozenset({"an", "dass", "daran", "zu"}),
        dangling=frozenset({"um", "am", "an", "in", "im", "den", "die", "das", "der", "zu", "und", "nach", "vor"}),
        midnight=("mitternacht",),
        parts=(("morning", r"früh|morgens|vormittags?|(?<=jeden )morgen|(?<=am )morgen"),
               ("afternoon", r"nachmittags?"), ("evening", r"abends?"), ("night", r"(?:in der )?nachts?")),
    ),
    "fa": TimeWords(
        request=r"یادم (?:بنداز|بیار|بینداز)|(?:به من )?یادآوری کن|یاد ?آوری کن",
        polite=frozenset({"لطفا", "لطفاً", "میشه", "می‌شه", "سلام", "و", "هم"}),
        every=("هر",), daily=frozenset({"روزانه"}),
        fillers=frozenset({"که"}),
        dangling=frozenset({"ساعت", "در", "به", "تا", "از", "و", "که"}),
        rewrites=((r"\bنیم ساعت\b", "30 دقیقه"), (r"\bپارسال\b", "سال گذشته"), (r"\bپیرارسال\b", "2 سال پیش"),
                  (r"(?<!\S)(?:یک|یه)\s+(ساعت|دقیقه|روز|هفته|ماه)(?!\S)", r"1 \1"),  # "یه ساعت دیگه": in an hour
                  (r"(\d+ \S+) (?:دیگر|دیگه)\b", r"\1 بعد"),
                  (r"\bپس[\u200c ]?فردا\b", "2 روز بعد"),
                  # "ساعت ۹" is "at 9" (dateparser reads ساعت as the unit "hour"), as Indonesian's "jam 9"
                  (r"\bساعت\s+(\d{1,2}):(\d{2})\b", r"\1:\2"), (r"\bساعت\s+(\d{1,2})\b", r"\1:00")),
        midnight=("نیمه شب", "نیمه‌شب"),
        parts=(("morning", r"صبح|بامداد"), ("afternoon", r"بعد ?از ?ظهر|بعد\u200cاز\u200cظهر|عصر"),
               ("night", r"شب")),
    ),
    # French, Italian and Indonesian: no catalogue (Engram's own words stay English), but dateparser reads their
    # dates, so a request and its parts of the day are read (Turkish puts its verb last: not yet)
    "fr": TimeWords(
        request=r"rappelle(?:z)?[- ]moi|fais[- ]moi penser",
        polite=frozenset({"s'il", "te", "vous", "plaît", "plait", "stp", "svp", "peux-tu", "pouvez-vous", "et",
                          "aussi", "bot", "salut"}),
        every=("tous les", "toutes les", "chaque"), daily=frozenset({"quotidiennement"}), clock=r"à",
        fillers=frozenset({"de", "d'", "que", "qu'"}),
        dangling=frozenset({"à", "le", "la", "les", "de", "du", "en", "dans", "et", "pour", "d'"}),
        rewrites=((r"\bdemi-heure\b", "30 minutes"), (r"\bune demi heure\b", "30 minutes"), *_H_CLOCK),
        midnight=("minuit",),
        parts=(("morning", r"(?:le |du |ce )?matin(?:s|ée)?"), ("afternoon", r"(?:l'|cet |de l')?après-midi"),
               ("evening", r"(?:le |du |ce )?soirs?|(?:la |en |de la )?soirée"),
               ("night", r"(?:la |de la |cette )?nuits?")),
    ),
    "it": TimeWords(
        request=r"ricordami|ricordatemi|mi ricordi",
        polite=frozenset({"per", "favore", "puoi", "potresti", "e", "anche", "ciao", "bot"}),
        every=("tutti i", "tutte le", "ogni"), daily=frozenset({"quotidianamente"}), clock=r"alle|alla",
        fillers=frozenset({"di", "che"}),
        dangling=frozenset({"alle", "alla", "a", "il", "la", "le", "di", "del", "in", "tra", "fra", "e", "per"}),
        rewrites=((r"\bmezz'?ora\b", "30 minuti"),), drop=frozenset({"il"}), midnight=("mezzanotte",),
        parts=(("morning", r"(?:di |la |al )?mattin[ao]|mattine|stamattina"), ("afternoon", r"(?:di |nel )?pomeriggio"),
               ("evening", r"(?:di |la |alla )?sera|sere|stasera"), ("night", r"(?:di |la )?notte|notti|stanotte")),
    ),
    "id": TimeWords(
        request=r"ingatkan(?:\s+(?:saya|aku))?",
        polite=frozenset({"tolong", "mohon", "bisa", "kamu", "dan", "juga", "bot", "hai", "halo"}),
        every=("setiap", "tiap"), daily=frozenset({"harian"}),
        fillers=frozenset({"untuk", "agar", "supaya", "bahwa"}),
        dangling=frozenset({"jam", "pukul", "pada", "di", "ke", "untuk", "dan", "dalam"}),
        # "jam 9" is "at 9" (dateparser reads "jam" as the unit "hour"), as Persian's "ساعت ۹"
        rewrites=((r"\bsetengah jam\b", "30 menit"), (r"\b(?:jam|pukul) (\d{1,2})[:.](\d\d)\b", r"\1:\2"),
                  (r"\b(?:jam|pukul) (\d{1,2})\b", r"\1:00")),
        midnight=("tengah malam",),
        parts=(("morning", r"pagi"), ("afternoon", r"siang|sore"), ("night", r"malam")),
    ),
}


def words(lang: str) -> TimeWords:
    return WORDS.get(lang, WORDS["en"])


@cache
def _parts_pattern(lang: str) -> re.Pattern[str]:
    """The parts of the day of `lang` and English, each in a group named by its English word."""
    found: dict[str, list[str]] = {}
    for part, regex in (*words(lang).parts, *WORDS["en"].parts):
        found.setdefault(part, []).append(regex)
    alternatives = "|".join(f"(?P<{part}>{'|'.join(regexes)})" for part, regexes in found.items())
    # Not after "the": "remind me about the evening class", "the night shift", "the night before" name things.
    return re.compile(rf"(?<!\w)(?<!the )(?:{alternatives})(?!\w)", re.I)


def part_of_day(phrase: str, lang: str) -> tuple[str | None, str]:
    """(the part of the day a phrase names in English, the phrase without it): ("evening", "завтра в 9:00") for
    "завтра вечером в 9:00"; (None, phrase) when it names none."""
    match = _parts_pattern(lang).search(phrase)
    if match is None:
        return None, phrase
    rest = f"{phrase[:match.start()]} {phrase[match.end():]}"
    return match.lastgroup, " ".join(rest.split())


def part_after(head: str, word: str, lang: str) -> str | None:
    """The part of the day `word` names right after a recurrence head ("каждый вечер", "cada mañana", "jeden
    Morgen"), or None."""
    said = f"{head} {word}".lower()
    match = _parts_pattern(lang).search(said)
    return match.lastgroup if match and match.start() > len(head) and match.end() == len(said) else None


def foreign_request(text: str) -> tuple[str, str] | None:
    """(language, what follows the request words) when `text` asks for a reminder in another language than
    English ("пожалуйста, напомни мне завтра в 9…" -> ("ru", "завтра в 9…")); None for anything else. Only words
    of politeness may come before the request words, so a question about the past is not one."""
    match = request_pattern().search(text)
    if match is None or match.lastgroup in (None, "en"):
        return None
    lang = match.lastgroup
    before = re.findall(r"[^\W\d_][\w'-]*", text[:match.start()].lower())
    if any(word not in words(lang).polite | WORDS["en"].polite for word in before):
        return None
    rest = text[match.end():].strip(" ,:")
    return (lang, rest) if rest else None


def spoken_rules(text: str, lang: str) -> str:
    """A request with the ways of saying a rule that recurrence words do not cover said with them."""
    for pattern, replacement in words(lang).spoken:
        text = re.sub(pattern, replacement, text, flags=re.I)
    return text


def ascii_digits(text: str) -> str:
    return text.translate(_DIGITS)


@cache
def request_pattern(lang: str | None = None) -> re.Pattern[str]:
    """The request words of one language, or (None) of all of them, each in a group named by its language."""
    langs = [lang] if lang else list(WORDS)
    alternatives = "|".join(f"(?P<{code}>{WORDS[code].request})" for code in langs)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)


def normalise(phrase: str, lang: str) -> str:
    """A phrase as dateparser reads it best: lower case, ASCII digits, rewrites, a bare clock hour as H:00."""
    w = words(lang)
    text = ascii_digits(phrase).lower().strip(" ,.;:!?؟،").replace("ʼ", "'").replace("’", "'")
    for pattern, replacement in w.rewrites:
        text = re.sub(pattern, replacement, text)
    if w.drop:
        text = " ".join(t for t in text.split() if t not in w.drop)
    if w.clock:
        text = re.sub(rf"(?<!\w)({w.clock})\s+(\d{{1,2}})\b(?![:.]\d)(?!\s*(?:am|pm|a\.m|p\.m|h\b))",
                      r"\1 \2:00", text)
    return text


@lru_cache(maxsize=4096)
def english_word(word: str, lang: str) -> str:
    """One word in English as dateparser translates it ('среду' -> 'wednesday', 'часа' -> 'hour'), or the word."""
    if lang == "en":
        return word.lower()
    from dateparser.conf import settings
    from dateparser.languages.loader import default_loader

    word = normalise(word, lang) or word.lower()
    try:  # dateparser raises various errors on odd input: then the word is kept
        translated = default_loader.get_locale(lang).translate(word, settings=settings)
    except Exception:
        return word
    translated = translated.strip()
    return translated if translated and " " not in translated else word


def fold(text: str) -> str:
    """Lower case, Arabic yeh and kaf as Persian writes them (dateparser's Persian tables mix both)."""
    return text.lower().replace("ي", "ی").replace("ك", "ک")


@cache
def time_words(lang: str) -> frozenset[str]:
    """Every word dateparser's tables for `lang` use in dates and relative times ("неделе", "назад", "pasada"),
    and the words of our rewrites: a run of words with none of them is no time phrase (a cheap first test)."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(lang).info
    found: set[str] = set()

    def add(text: str) -> None:
        found.update(w for w in re.findall(r"[^\W\d_]+", fold(text)) if len(w) > 1 or not w.isascii())

    for key, value in info.items():
        if key in ("skip", "pertain", "name", "date_order", "sentence_splitter_group", "simplifications"):
            continue
        if isinstance(value, list):
            for item in value:
                add(str(item))
        elif isinstance(value, dict):
            for items in value.values():
                for item in items if isinstance(items, list) else [items]:
                    add(str(item))
    for pattern, _replacement in words(lang).rewrites:
        add(pattern.replace("\\b", " "))
    return frozenset(found)


def translate_phrase(phrase: str, lang: str) -> str | None:
    """A time phrase in English words ('la semana pasada' -> '1 week ago'), or None when dateparser leaves any
    word of it untranslated (then it is not a time phrase dateparser knows)."""
    if lang == "en":
        return phrase
    from dateparser.conf import settings
    from dateparser.languages.loader import default_loader

    text = normalise(phrase, lang)
    try:
        translated = default_loader.get_locale(lang).translate(text, settings=settings)
    except Exception:
        return None
    translated = " ".join(translated.split())
    if not translated or not re.fullmatch(r"[a-z0-9: ]+", translated):
        return None
    return translated

