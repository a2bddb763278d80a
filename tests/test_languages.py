from bot.languages import SUPPORTED, from_accept_language, pick


def test_pick_maps_a_telegram_code_to_a_supported_language() -> None:
    assert pick("es") == "es"
    assert pick("de-AT") == "de"
    assert pick("ES_mx") == "es"
    assert pick("pt-BR") == "en"
    assert pick(None) == "en"
    assert pick("") == "en"


def test_accept_language_takes_the_best_weighted_supported_tag() -> None:
    assert from_accept_language("fr-FR,fr;q=0.9,de;q=0.8,es;q=0.7") == "de"
    assert from_accept_language("es;q=0.5, de;q=0.9") == "de"
    assert from_accept_language("pt-BR,pt;q=0.9") == "en"
    assert from_accept_language("de;q=0, es") == "es"
    assert from_accept_language(None) == "en"
    assert from_accept_language("es;q=oops, de;q=0.1") == "de"


def test_english_is_first_and_the_fallback() -> None:
    assert SUPPORTED[0] == "en"
