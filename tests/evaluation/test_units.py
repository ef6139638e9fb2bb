"""Pure parts: the sentiment lexicons (English VADER, German Polarity Lexicon, carried as data, with simplemma lemmas), handoff categories,
question normalisation and the aggregate contribution of a metrics row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from confide.evaluation import metrics, sentiment

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def msg(i: int, author: str, text: str = "", *, kind: str = "message", event: str | None = None, verdict: dict | None = None, at: float = 0) -> metrics.MessageView:
    return metrics.MessageView(f"msg_{i}", i, kind, author, event, text, verdict, T0 + timedelta(seconds=at))


def test_english_and_german_sentiment_from_packaged_lexicons():
    assert sentiment.score("Thank you, that was really helpful!", "en") > 0.5
    assert sentiment.score("This is useless and I am angry", "en-GB") < -0.5
    assert sentiment.score("Vielen Dank, das ist super!", "de") > 0.3
    assert sentiment.score("Das ist schlecht und ärgerlich", "de-AT") < -0.5
    assert sentiment.score("Das ist nicht gut", "de") < 0 < sentiment.score("Das ist gut", "de")
    assert sentiment.score("Das ist sehr gut", "de") > sentiment.score("Das ist gut", "de")
    assert sentiment.score("Bonjour, merci beaucoup", "fr") is None  # no lexicon: no measure rather than a wrong one
    assert 7_500 < len(sentiment.german_lexicon()) < 10_000  # the German Polarity Lexicon: about 8,000 base forms
    trend = sentiment.trend(["Das ist schlecht", "Immer noch nichts", "Hm", "Jetzt klappt es, danke, super!"], "de")
    assert trend is not None and trend.lexicon == "german-polarity" and trend.messages == 4 and trend.trend > 0
    assert sentiment.trend([], "en") is None and sentiment.trend(["salut"], "fr") is None


def test_german_inflected_forms_count_by_their_lemma_and_only_exactly():
    lexicon = sentiment.german_lexicon()
    assert "ärgerlich" in lexicon and "ärgerlichen" not in lexicon and "problemen" not in lexicon  # (mostly) base forms
    assert sentiment.score("Das war ein schöner Tag", "de") > 0
    assert "schönsten" not in lexicon and sentiment.score("Das war einer der schönsten Tage", "de") > 0  # schönsten -> schön
    assert sentiment.score("Wir haben einen enttäuschenden Bescheid bekommen", "de") < 0  # enttäuschenden -> enttäuschend
    assert sentiment.score("Die Lieferung war ärgerlich und die Verpackung beschädigt", "de") < 0
    assert sentiment.score("Wir hatten mit den ärgerlichen Problemen viel Mühe", "de") < 0  # ärgerlichen -> ärgerlich, Problemen -> Problem
    assert sentiment.score("Das ist nicht schön", "de") < 0 < sentiment.score("Das ist sehr schön", "de")
    # no folding: "schon" (already) is not "schön", "Schon" at the start of a sentence neither
    assert sentiment.score("Ich habe schon gewartet", "de") == 0.0
    assert sentiment.score("Schon angekommen, das Paket", "de") == 0.0
    assert sentiment.score("Ich habe eine Frage zu meiner Bestellung", "de") == 0.0
    assert sentiment.score("Wann kommt mein Paket an?", "de") == 0.0
    # requests whose lemma the lexicon rates ("bitte" -> "bitten", "möchte" -> "mögen") are neutral
    assert sentiment.score("Ich möchte bitte meine Adresse ändern", "de") == 0.0
    # where a noun and a verb fold together with opposite readings ("Wagen" 0, "wagen" +0.7) the word is neutral
    assert sentiment.score("Mein Wagen steht vor der Tür", "de") == 0.0
    assert sentiment.score("Danke!", "de") > 0 and sentiment.score("Vielen Dank", "de") > 0
    assert sentiment.score("Die wütenden Kunden", "de") < 0
    assert sentiment.lexicon_for("de-CH") == "german-polarity" and sentiment.lexicon_for("fr") is None


def test_german_letter_formulas_and_account_business_carry_no_mood():
    """A formal complaint that opens "Sehr geehrte …" scored +0.74 (via "geehrt"), and "Mit freundlichen
    Grüßen" +0.72: a complaint's first third read as happy, and the trend as worse than it was."""
    assert sentiment.score("Sehr geehrte Damen und Herren, meine Bestellung ist nicht angekommen.", "de") == 0.0
    assert sentiment.score("Mit freundlichen Grüßen", "de") == 0.0 and sentiment.score("Liebe Grüße, Anna", "de") == 0.0
    for text in ("Ich möchte mein Abo kündigen", "Der Termin wurde abgesagt", "Ich habe mich angemeldet", "Mein Vertrag ist gekündigt"):
        assert sentiment.score(text, "de") == 0.0, text
    assert sentiment.score("Vielen Dank, sehr freundlich!", "de") > 0  # "freundlich" still counts outside the formula
    assert sentiment.score("Das Paket ist kaputt", "de") < 0 and sentiment.score("Das Gerät ist leider defekt", "de") < 0


def test_handoff_categories_depend_on_what_came_before():
    def category(*turns: metrics.MessageView) -> str | None:
        return metrics.compute(started_at=T0, closed_at=T0 + timedelta(minutes=5), language="en", handed_off_flag=False, handoff_reason_now=None,
                               messages=list(turns), rule_ids=[]).handoff_reason

    handoff = lambda i, reason: msg(i, "system", kind="event", event="handoff", verdict={"reason": reason, "rule_ids": []}, at=i)  # noqa: E731
    assert category(msg(1, "visitor", "a human please"), handoff(2, "customer_request")) == "customer_request"
    assert category(msg(1, "visitor", "q?"), msg(2, "avatar", "?", verdict={"fallback": True}, at=1), msg(3, "visitor", "human"), handoff(4, "customer_request")) == "missing_knowledge"
    assert category(msg(1, "visitor", "q?"), msg(2, "avatar", "?", verdict={"fallback": True, "error": "timeout"}, at=1), handoff(3, "customer_request")) == "responder_failure"
    assert category(msg(1, "visitor", "q?"), handoff(2, "policy_restriction")) == "policy_restriction"
    assert category(msg(1, "visitor", "approve it"), handoff(2, "decision_required")) == "decision_required"
    assert category(msg(1, "visitor", "hello"), msg(2, "avatar", "hi", at=1)) is None


def test_latencies_turns_and_questions():
    computed = metrics.compute(
        started_at=T0, closed_at=T0 + timedelta(seconds=100), language="en", handed_off_flag=False, handoff_reason_now=None, rule_ids=["tone", "tone", "pii"],
        messages=[
            msg(1, "avatar", "I am an AI. Hello!", at=0),
            msg(2, "visitor", "Do you ship to Mars?", at=10), msg(3, "visitor", "Hello?", at=12),
            msg(4, "avatar", "I don't know.", verdict={"fallback": True}, at=15),
            msg(5, "visitor", "ok", at=20), msg(6, "operator", "I can help.", at=50),
            metrics.MessageView("note", None, "note", "operator", None, "secret note", None, T0 + timedelta(seconds=51)),
        ],
    )
    assert (computed.turns, computed.avatar_messages, computed.operator_messages) == (3, 2, 1)
    assert computed.first_response_seconds == 5 and computed.response_count == 2 and computed.mean_response_seconds == 17.5
    assert computed.duration_seconds == 100 and computed.human_involved and not computed.handed_off
    assert computed.fallback_answers == 1 and [q.text for q in computed.questions] == ["Hello?"]
    assert computed.rule_hits == {"pii": 1, "tone": 2}
    assert metrics.normalize_question("  Wann habt ihr GEÖFFNET?? <PHONE_NUMBER> ") == "wann habt ihr geoffnet"


def test_a_contribution_and_its_delta():
    from confide.evaluation.models import ConversationMetrics

    row = ConversationMetrics(id="cmx_1", tenant_id="ten_1", avatar_id="avt_1", language="en", day=T0.date(), started_at=T0, turns=2,
                              first_response_seconds=4.0, handed_off=True, handoff_reason="missing_knowledge", rule_hits={"tone": 2}, rating=5)
    new = metrics.contribution(row)
    assert new.scalars["conversations"] == 1 and new.scalars["rating_sum"] == 5 and new.scalars["contained"] == 0
    assert new.counts == {("handoff", "missing_knowledge"): 1, ("rule", "tone"): 2, ("csat", "5"): 1, ("frt", "4"): 1}
    assert new.minus(new).empty and metrics.contribution(None).empty
    assert new.minus(metrics.contribution(None)).scalars == new.scalars
