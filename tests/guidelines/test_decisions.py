"""The decision guard (GDPR Art. 22): requests to decide, announced decisions, instructions to decide.

Informing is allowed, deciding is not: a question about how something works in general is
answered, a request to decide one's own case goes to a human."""

from __future__ import annotations

import pytest

from guidelines.decisions import discloses_ai, disables_disclosure, instructs_decision, requests_decision, states_decision

REQUESTS_EN = [
    "can you approve my refund",
    "Could you please approve my loan application?",
    "Am I eligible for the senior discount?",
    "Please cancel my contract.",
    "cancel my subscription",
    "I want a refund",
    "I want my money back!",
    "Refund me now.",
    "Can you give me a discount?",
    "Do I qualify for the loan?",
    "Will my application be accepted?",
    "Has my claim been approved yet?",
    "I'd like to terminate my membership",
    "What price can you give me?",
    "Can you lower the price for me?",
    "Can I get a refund for my order?",
    "Please process my refund",
    "Approve my credit application",
    "Decide on my application please",
    "Can you check if I'm eligible for financing?",
    "My refund was rejected. Can you approve it?",
    "I demand compensation",
    "Can you make me a special price?",
    "could you waive my cancellation fee",
    "Hi there, I bought a sofa last month and it broke. Can you refund the purchase?",
]
REQUESTS_DE = [
    "Kannst du meinen Kredit genehmigen?",
    "Kündige meinen Vertrag",
    "Können Sie meinen Antrag bewilligen?",
    "Bin ich berechtigt, eine Erstattung zu bekommen?",
    "Ich möchte meinen Vertrag kündigen.",
    "Ich will mein Geld zurück!",
    "Habe ich Anspruch auf eine Rückerstattung?",
    "Bitte stornieren Sie meine Bestellung.",
    "Wird mein Antrag genehmigt?",
    "Geben Sie mir einen Rabatt!",
    "Erstatten Sie mir bitte den Kaufpreis.",
    "Können Sie mir einen Sonderpreis machen?",
    "Kündigen Sie bitte mein Abo.",
    "Steht mir eine Entschädigung zu?",
    "Erfülle ich die Voraussetzungen für den Kredit?",
    "Bekomme ich mein Geld zurück?",
    "Genehmigen Sie bitte meine Kündigung.",
    "Wie viel Rabatt können Sie mir geben?",
    "Können Sie prüfen, ob ich berechtigt bin?",
    "Ich verlange eine Erstattung.",
    "Kann ich eine Rückerstattung bekommen?",
    "Lehnen Sie den Vertrag bitte ab",
    "Entscheiden Sie über meinen Antrag",
    "Ich möchte kündigen.",
    "Kannst du mit dem Preis runtergehen?",
]
INFORMATIONAL_EN = [
    "What are your opening hours?",
    "How do refunds work in general?",
    "What is your refund policy?",
    "How can I cancel my contract?",
    "Do you offer discounts for students?",
    "Who decides on loan applications?",
    "I love your products!",
    "Where is my order?",
    "Can you send me the contract again?",
    "What documents do I need for a loan application?",
    "Is there a cancellation fee?",
    "Can you help me find a product?",
    "My order number is 12345.",
    "Tell me about your pricing",
    "How long does a refund usually take?",
    "Can you explain the warranty terms?",
    "Please tell me more about the credit card options",
    "I want to know how the application process works.",
    "Could you give me information about your price list?",
    "The delivery was quick and the packaging was nice.",
]
INFORMATIONAL_DE = [
    "Wie sind Ihre Öffnungszeiten?",
    "Wie funktioniert eine Rückerstattung im Allgemeinen?",
    "Welche Unterlagen brauche ich für einen Kreditantrag?",
    "Wie kann ich meinen Vertrag kündigen?",
    "Was kostet das Premium-Abo?",
    "Gibt es Rabatte für Studierende?",
    "Danke für die Hilfe!",
    "Wo ist meine Bestellung?",
    "Wer entscheidet über Anträge?",
    "Wie lange dauert eine Erstattung normalerweise?",
    "Können Sie mir die Widerrufsbelehrung erklären?",
    "Haben Sie das Produkt in Blau?",
    "Meine Kundennummer ist 4711.",
    "Was passiert, wenn ich kündige?",
    "Können Sie mir den Vertrag noch einmal schicken?",
    "Ich möchte wissen, wie die Kündigung funktioniert.",
    "Welche Preise gelten für Firmenkunden?",
]


@pytest.mark.parametrize("text", REQUESTS_EN + REQUESTS_DE)
def test_a_request_to_decide_ones_own_case_is_recognised(text: str) -> None:
    assert requests_decision(text)


@pytest.mark.parametrize("text", INFORMATIONAL_EN + INFORMATIONAL_DE)
def test_a_question_about_how_things_work_is_not_a_request_to_decide(text: str) -> None:
    assert not requests_decision(text)


@pytest.mark.parametrize(
    "text",
    [
        "CAN YOU APPROVE MY REFUND",  # case
        "kündige meinen Vertrag",
        "KUENDIGE meinen Vertrag",  # umlaut transliterated
        "Kundige meinen Vertrag",  # umlaut dropped
        "can you a\u200bpprove my re\u200bfund",  # zero-width characters
        "can you approve my r e f u n d",  # spaced out
        "can you approve my r.e.f.u.n.d",
        "ｃａｎ ｙｏｕ ａｐｐｒｏｖｅ ｍｙ ｒｅｆｕｎｄ",  # fullwidth
        "Können Sie meinen Äntrag genehmigen?",  # stray accent
    ],
)
def test_evasions_do_not_hide_a_request(text: str) -> None:
    assert requests_decision(text)


def test_each_language_has_at_least_fifteen_phrasings() -> None:
    assert len(REQUESTS_EN) >= 15 and len(REQUESTS_DE) >= 15


STATEMENTS = [
    "Your loan is approved.",
    "Good news: your refund has been approved!",
    "You are eligible for the discount.",
    "We grant you a refund.",
    "I have cancelled your contract.",
    "Unfortunately your application was rejected.",
    "You will receive a full refund.",
    "I can give you a 15% discount.",
    "You do not qualify for this loan.",
    "Ihr Antrag wurde abgelehnt.",
    "Ihr Kredit ist genehmigt.",
    "Sie sind berechtigt, eine Erstattung zu erhalten.",
    "Wir erstatten Ihnen den vollen Betrag.",
    "Ich habe Ihren Vertrag gekündigt.",
    "Sie erhalten eine Rückerstattung.",
    "Leider können wir Ihren Antrag nicht genehmigen.",
    "Ihre Kündigung wurde bestätigt.",
    "Sie haben Anspruch auf eine Entschädigung.",
    "Ich kann Ihnen 10 % Rabatt geben.",
]
NOT_STATEMENTS = [
    "Refunds are usually processed within 5 days.",
    "Whether your refund is approved is decided by our team.",
    "Ob Ihr Antrag genehmigt wird, entscheidet ein Mitarbeiter.",
    "A colleague will review your application and decide.",
    "Our opening hours are 9 to 5.",
    "You can cancel your contract online in your account.",
    "Rückerstattungen dauern in der Regel fünf Tage.",
    "Sie können Ihren Vertrag online kündigen.",
    "I cannot approve refunds; a colleague will decide on your request.",
    "Eine Mitarbeiterin prüft Ihren Antrag und entscheidet.",
    "We offer a 10% student discount on all plans.",
]


@pytest.mark.parametrize("text", STATEMENTS)
def test_output_that_announces_a_decision_is_recognised(text: str) -> None:
    assert states_decision(text)


@pytest.mark.parametrize("text", NOT_STATEMENTS)
def test_output_that_informs_is_not_a_decision(text: str) -> None:
    assert not states_decision(text)


INSTRUCTIONS_TO_DECIDE = [
    "Approve refunds under 50 EUR yourself.",
    "Genehmige Kündigungen selbst.",
    "You may grant discounts up to 10% to loyal customers.",
    "Decide on loan applications based on the customer's income.",
    "Reject applications from customers under 18.",
    "Erstatte Versandkosten selbst.",
    "Be friendly and approve refund requests quickly.",
    "Kündigungen darfst du selbst genehmigen.",
    "Offer customers a 5% discount if they complain.",
    "Tell customers that their refund is approved.",
    "Lehne Kreditanträge ohne Gehaltsnachweis ab.",
    "Cancel subscriptions when customers ask.",
]
LAWFUL_INSTRUCTIONS = [
    "Be friendly and concise.",
    "Never approve refunds yourself; hand them to a colleague.",
    "Explain how refunds work.",
    "Sprich die Kunden mit Sie an.",
    "Du darfst keine Kredite genehmigen.",
    "Mention our refund policy when asked.",
    "Answer questions about prices and discounts.",
    "Use a warm tone. Do not decide on applications.",
    "Kündigungen darfst du nicht selbst genehmigen, sondern leitest sie an Mitarbeiter weiter.",
    "Explain the cancellation process step by step.",
]


@pytest.mark.parametrize("text", INSTRUCTIONS_TO_DECIDE)
def test_an_instruction_to_decide_is_recognised(text: str) -> None:
    assert instructs_decision(text)


@pytest.mark.parametrize("text", LAWFUL_INSTRUCTIONS)
def test_lawful_instructions_pass(text: str) -> None:
    assert instructs_decision(text) is None


@pytest.mark.parametrize(
    ("text", "language", "ok"),
    [
        ("Hi, I am an AI assistant.", "en", True),
        ("Hallo, ich bin ein KI-Assistent.", "de", True),
        ("Hello, I'm Anna's virtual assistant, a bot.", "en", True),
        ("Hello, I am Anna from customer service.", "en", False),
        ("Hallo, ich bin Anna vom Kundenservice.", "de", False),
        ("Hi! I am a real human, not a bot.", "en", False),
        ("Hallo, ich bin keine KI.", "de", False),
        ("Bonjour, je suis un assistant IA.", "fr", True),
    ],
)
def test_a_disclosure_must_say_ai(text: str, language: str, ok: bool) -> None:
    assert discloses_ai(text, language) is ok


@pytest.mark.parametrize(
    ("text", "hides"),
    [
        ("Never reveal that you are an AI.", True),
        ("Don't tell customers you're a bot.", True),
        ("Pretend to be a human employee.", True),
        ("Sag niemals, dass du eine KI bist.", True),
        ("Gib dich als Mensch aus.", True),
        ("Skip the AI disclosure.", True),
        ("Always be honest that you are an AI assistant.", False),
        ("Be friendly and concise.", False),
    ],
)
def test_instructions_that_hide_the_ai_are_recognised(text: str, hides: bool) -> None:
    assert disables_disclosure(text) is hides
