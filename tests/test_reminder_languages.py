"""Reminders and time phrases in other languages: requests in ordinary chat, recurrence words, /remind's examples
in every catalogue, errors in the chat's language, and past time phrases for recall ("la semana pasada",
"پارسال"). Pure parsing with a fixed clock: dateparser's real locale tables, no fakes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import CATALOGUES, using
from bot.reminders.parse import USAGE, ParseError, detect_natural_request, parse_reminder, usage
from bot.when.phrases import parse_time_phrase

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)  # a Monday
TZ = "Europe/Moscow"  # UTC+3: local 15:00


def local(parsed) -> str:
    return parsed.due_at.astimezone(ZoneInfo(TZ)).strftime("%a %d %H:%M")


# (message, language, local due time, recurrence spec or None, reminder text)
REQUESTS = [
    ("напомни мне через 2 минуты позвонить маме", "ru", "Mon 07 15:02", None, "позвонить маме"),
    ("напомни мне завтра в 9 позвонить маме", "ru", "Tue 08 09:00", None, "позвонить маме"),
    ("Напомни мне позвонить маме завтра в 9", "ru", "Tue 08 09:00", None, "позвонить маме"),
    ("пожалуйста, напомни мне каждый день в 8 делать зарядку", "ru", "Tue 08 08:00", "daily 08:00",
     "делать зарядку"),
    ("напомни мне каждую среду в 9 вынести мусор", "ru", "Wed 09 09:00", "weekly wed 09:00", "вынести мусор"),
    ("напомни каждые 2 часа пить воду", "ru", "Mon 07 17:00", "interval 7200", "пить воду"),
    ("нагадай мені завтра о 9 подзвонити мамі", "uk", "Tue 08 09:00", None, "подзвонити мамі"),
    ("нагадай мені через 10 хвилин вимкнути духовку", "uk", "Mon 07 15:10", None, "вимкнути духовку"),
    ("нагадай мені кожного понеділка о 9 нарада", "uk", "Mon 14 09:00", "weekly mon 09:00", "нарада"),
    ("recuérdame mañana a las 9 llamar a mamá", "es", "Tue 08 09:00", None, "llamar a mamá"),
    ("recuérdame llamar a mamá mañana a las 9", "es", "Tue 08 09:00", None, "llamar a mamá"),
    ("recuérdame todos los lunes a las 9 la reunión", "es", "Mon 14 09:00", "weekly mon 09:00", "la reunión"),
    ("recuérdame el viernes a las 18:30 cena con Bo", "es", "Fri 11 18:30", None, "cena con Bo"),
    ("lembre-me amanhã às 9 de ligar para a mãe", "pt", "Tue 08 09:00", None, "ligar para a mãe"),
    ("me lembra daqui a 10 minutos de desligar o forno", "pt", "Mon 07 15:10", None, "desligar o forno"),
    ("lembre-me todos os dias às 8 de alongar", "pt", "Tue 08 08:00", "daily 08:00", "alongar"),
    ("erinnere mich morgen um 9 Mama anzurufen", "de", "Tue 08 09:00", None, "Mama anzurufen"),
    ("erinnere mich jeden Montag um 9 an das Teammeeting", "de", "Mon 14 09:00", "weekly mon 09:00",
     "das Teammeeting"),
    ("bitte erinnere mich täglich um 7 an die Tabletten", "de", "Tue 08 07:00", "daily 07:00", "die Tabletten"),
    ("یادم بنداز فردا ساعت ۹ به مامان زنگ بزنم", "fa", "Tue 08 09:00", None, "به مامان زنگ بزنم"),
    ("یادم بنداز ۱۰ دقیقه دیگر فر را خاموش کنم", "fa", "Mon 07 15:10", None, "فر را خاموش کنم"),
    ("یادم بنداز هر روز ساعت ۸ ورزش کنم", "fa", "Tue 08 08:00", "daily 08:00", "ورزش کنم"),
    ("remind me to call Ana tomorrow at 10", "en", "Tue 08 10:00", None, "call Ana"),
    # parts of the day: 9 is 21:00 in the evening or at night, 09:00 in the morning; the part alone its own hour
    ("напомни мне каждый вечер в 9 пить таблетки", "ru", "Mon 07 21:00", "daily 21:00", "пить таблетки"),
    ("напомни мне завтра в 9 вечера позвонить маме", "ru", "Tue 08 21:00", None, "позвонить маме"),
    ("напомни мне завтра утром позвонить маме", "ru", "Tue 08 09:00", None, "позвонить маме"),
    ("напомни мне сегодня вечером в 8 кино", "ru", "Mon 07 20:00", None, "кино"),
    ("напомни мне каждое утро в 7 делать зарядку", "ru", "Tue 08 07:00", "daily 07:00", "делать зарядку"),
    ("напомни мне каждую ночь в 2 проверить сервер", "ru", "Tue 08 02:00", "daily 02:00", "проверить сервер"),
    ("нагадай мені щовечора о 9 пити ліки", "uk", "Mon 07 21:00", "daily 21:00", "пити ліки"),
    ("нагадай мені кожного вечора о 9 пити ліки", "uk", "Mon 07 21:00", "daily 21:00", "пити ліки"),
    ("нагадай мені завтра вранці подзвонити мамі", "uk", "Tue 08 09:00", None, "подзвонити мамі"),
    ("recuérdame todas las noches a las 9 tomar las pastillas", "es", "Mon 07 21:00", "daily 21:00",
     "tomar las pastillas"),
    ("recuérdame mañana por la tarde llamar a mamá", "es", "Tue 08 15:00", None, "llamar a mamá"),
    ("recuérdame cada mañana a las 7 correr", "es", "Tue 08 07:00", "daily 07:00", "correr"),
    ("recuérdame mañana a las 9 de la noche sacar la basura", "es", "Tue 08 21:00", None, "sacar la basura"),
    ("lembre-me toda noite às 9 de tomar o remédio", "pt", "Mon 07 21:00", "daily 21:00", "tomar o remédio"),
    ("lembre-me amanhã de manhã de ligar para a mãe", "pt", "Tue 08 09:00", None, "ligar para a mãe"),
    ("erinnere mich jeden Abend um 9 an die Tabletten", "de", "Mon 07 21:00", "daily 21:00", "die Tabletten"),
    ("erinnere mich jeden Morgen um 7 ans Laufen", "de", "Tue 08 07:00", "daily 07:00", "ans Laufen"),
    ("erinnere mich morgen früh Mama anzurufen", "de", "Tue 08 09:00", None, "Mama anzurufen"),
    ("یادم بنداز هر شب ساعت ۹ قرص بخورم", "fa", "Mon 07 21:00", "daily 21:00", "قرص بخورم"),
    ("یادم بنداز هر شب ساعت ٩ قرص بخورم", "fa", "Mon 07 21:00", "daily 21:00", "قرص بخورم"),  # Arabic-Indic 9
    ("یادم بنداز فردا صبح به مامان زنگ بزنم", "fa", "Tue 08 09:00", None, "به مامان زنگ بزنم"),
    ("remind me tomorrow evening at 9 to call mom", "en", "Tue 08 21:00", None, "call mom"),
    ("remind me tomorrow evening at 06:00 to call mom", "en", "Tue 08 06:00", None, "call mom"),
    ("remind me to call mom tomorrow morning", "en", "Tue 08 09:00", None, "call mom"),
    # politeness after the request words, half an hour, a weekday glued to "every", clocks written "19h30", "7 Uhr"
    ("напомни, пожалуйста, через полчаса выключить плиту", "ru", "Mon 07 15:30", None, "выключить плиту"),
    ("нагадай мені через півгодини вимкнути плиту", "uk", "Mon 07 15:30", None, "вимкнути плиту"),
    # "in an hour" said with a word for "one" (Ukrainian "через годину", Persian "یه ساعت دیگه")
    ("нагадай мені через годину зателефонувати мамі", "uk", "Mon 07 16:00", None, "зателефонувати мамі"),
    ("یادم بنداز یه ساعت دیگه به مامان زنگ بزنم", "fa", "Mon 07 16:00", None, "به مامان زنگ بزنم"),
    ("нагадай мені щоп'ятниці о 18 прибирання", "uk", "Fri 11 18:00", "weekly fri 18:00", "прибирання"),
    ("recuérdame, por favor, en media hora mirar el horno", "es", "Mon 07 15:30", None, "mirar el horno"),
    ("recuérdame mañana a las 8h30 llamar a Ana", "es", "Tue 08 08:30", None, "llamar a Ana"),
    ("lembre-me toda sexta às 19h30 de ligar para o Rui", "pt", "Fri 11 19:30", "weekly fri 19:30", "ligar para o Rui"),
    ("lembre-me daqui a meia hora de tirar o bolo", "pt", "Mon 07 15:30", None, "tirar o bolo"),
    ("erinnere mich bitte morgen um 7 Uhr an den Zahnarzt", "de", "Tue 08 07:00", None, "den Zahnarzt"),
    ("erinnere mich in einer halben Stunde an den Tee", "de", "Mon 07 15:30", None, "den Tee"),
    ("یادم بنداز نیم ساعت دیگه چای را بردارم", "fa", "Mon 07 15:30", None, "چای را بردارم"),
    ("remind me in half an hour to check the oven", "en", "Mon 07 15:30", None, "check the oven"),
    # French, Italian, Indonesian: no catalogue, but their requests, recurrences and parts of the day are read
    ("rappelle-moi chaque soir à 9h de prendre mes médicaments", "fr", "Mon 07 21:00", "daily 21:00",
     "prendre mes médicaments"),
    ("rappelle-moi demain matin d'appeler maman", "fr", "Tue 08 09:00", None, "appeler maman"),
    ("rappelle-moi tous les lundis à 9h la réunion", "fr", "Mon 14 09:00", "weekly mon 09:00", "la réunion"),
    ("ricordami ogni sera alle 9 di prendere le medicine", "it", "Mon 07 21:00", "daily 21:00",
     "prendere le medicine"),
    ("ricordami domani mattina di chiamare la mamma", "it", "Tue 08 09:00", None, "chiamare la mamma"),
    ("ingatkan saya setiap malam jam 9 minum obat", "id", "Mon 07 21:00", "daily 21:00", "minum obat"),
    ("ingatkan saya besok jam 9 telepon ibu", "id", "Tue 08 09:00", None, "telepon ibu"),
]


@pytest.mark.parametrize(("text", "lang", "due", "rule", "what"), REQUESTS, ids=[r[0][:30] for r in REQUESTS])
def test_a_request_in_ordinary_chat_is_read_in_its_language(text, lang, due, rule, what):
    parsed = detect_natural_request(text, TZ, NOW)
    assert parsed is not None
    assert (parsed.language, local(parsed), parsed.recurrence.spec if parsed.recurrence else None, parsed.text) \
        == (lang, due, rule, what)


@pytest.mark.parametrize("text", ["что ты мне напомнил вчера?", "ты напомнил мне про маму?",
                                  "¿me recordaste llamar?", "ich erinnere mich nicht", "he did not remind me",
                                  "Recuerda que mañana es el cumpleaños de Ana",
                                  "isso me lembra a minha infância em 1990", "je me rappelle de toi demain",
                                  "erinnere mich nicht mehr an morgen um 9"])
def test_questions_and_other_uses_of_the_words_are_not_requests(text):
    assert detect_natural_request(text, TZ, NOW) is None


@pytest.mark.parametrize("lang", CATALOGUES)
def test_every_catalogues_remind_examples_are_read_by_the_parser(lang):
    """/remind's help shows examples in the chat's language: each of them must set a reminder."""
    with using(lang):
        lines = usage().splitlines()
        examples = [line.strip().split(" ", 1)[1] for line in lines if line.strip().startswith("/remind ")]
        assert len(examples) == 6
        if lang != "en":
            assert usage() != USAGE  # translated, not the English text
        for example in examples:
            parsed = parse_reminder(example, "UTC", NOW)
            assert parsed.due_at > NOW and parsed.text, example


def test_an_unreadable_time_is_answered_in_the_chats_language():
    with using("ru"):
        with pytest.raises(ParseError) as error:
            parse_reminder("когда-нибудь потом купить хлеб", TZ, NOW)
        assert str(error.value).startswith("Я не нашёл здесь времени.\nКак писать: /remind <когда> <что>")
    with using("es"):
        with pytest.raises(ParseError) as error:
            parse_reminder("algún día comprar pan", TZ, NOW)
        assert str(error.value).startswith("No encontré ninguna hora en eso.\nUso: /remind <cuándo> <qué>")
        with pytest.raises(ParseError, match="no es una hora del día"):
            detect_natural_request("recuérdame mañana a las 25:99 comprar pan", TZ, NOW)
    with using("fa"), pytest.raises(ParseError, match="این زمان گذشته است"):
        parse_reminder("دیروز ساعت ۹ نان بخر", TZ, NOW)


def test_english_still_works_in_a_chat_of_another_language():
    with using("ru"):
        parsed = parse_reminder("in 10 minutes check the oven", TZ, NOW)
    assert parsed.language == "en" and parsed.due_at == NOW + timedelta(minutes=10)


@pytest.mark.parametrize(("lang", "text", "label", "query"), [
    ("es", "¿qué dije la semana pasada sobre el piso?", "30 Nov-6 Dec", "¿qué dije sobre el piso?"),
    ("ru", "что я говорил на прошлой неделе про квартиру", "30 Nov-6 Dec", "что я говорил про квартиру"),
    ("uk", "що я казав минулого тижня", "30 Nov-6 Dec", "що я казав"),
    ("fa", "پارسال کجا رفتیم؟", "2025", "کجا رفتیم؟"),
    ("fa", "دیروز چه گفتم؟", "6 Dec", "چه گفتم؟"),
    ("de", "was habe ich gestern gesagt", "6 Dec", "was habe ich gesagt"),
    ("pt", "o que eu disse ontem sobre o carro", "6 Dec", "o que eu disse sobre o carro"),
    ("es", "hace 3 días fuimos al cine", "4 Dec", "fuimos al cine"),
])
def test_past_time_phrases_of_other_languages_give_windows(lang, text, label, query):
    window = parse_time_phrase(text, NOW, "UTC", lang)
    assert window is not None and (window.label, window.query) == (label, query)


@pytest.mark.parametrize(("lang", "text"), [("es", "mi hermana vive en Valencia"), ("ru", "Как зовут мою собаку?"),
                                            ("de", "Mein Auto ist ein roter Golf von 2018.")])
def test_sentences_without_a_time_phrase_give_none(lang, text):
    assert parse_time_phrase(text, NOW, "UTC", lang) is None


@pytest.mark.parametrize("lang", CATALOGUES)
def test_every_catalogues_period_examples_name_a_period(lang):
    """/topics' "cannot read that as a period" suggests periods in the chat's language: each must be one (read as
    topic_commands.period_window reads them: as they are, else after "in")."""
    from bot.commands.topic_commands import PERIOD_EXAMPLES
    from bot.i18n import _

    with using(lang):
        examples = [e.strip() for e in _(PERIOD_EXAMPLES).replace("،", ",").split(",")]
        assert len(examples) == 3
        for example in examples:
            window = parse_time_phrase(example, NOW, "UTC")
            if window is None or window.query.strip():
                window = parse_time_phrase(f"in {example}", NOW, "UTC")
            assert window is not None and not window.query.strip(), example
