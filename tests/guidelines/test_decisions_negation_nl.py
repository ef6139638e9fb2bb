"""Dutch style instructions whose negation follows the decision verb (GDPR Art. 22).

Dutch puts the negation after the verb ("Keur terugbetalingen nooit zelf goed"): such an
instruction forbids deciding and must pass. A negation inside a subordinate clause, written with or
without its comma ("Keur terugbetalingen zelf goed als de klant niet tevreden is"), before a
participle or adjective it qualifies, or before a limit, negates something else: the instruction
still tells the avatar to decide and must be caught. A relative clause its verb has closed ("die de
klant aanvraagt nooit zelf goed"), "als" meaning "as" ("als avatar") and an ordinary adjective
("nooit oude bestellingen") leave the negation with the verb. So do "of" between two nouns ("of een
tegoedbon") and a time span or infinitive clause the relative clause's verb closed; a negation
before a spelled-out limit ("nooit meer dan tien procent"), inside a clause whose noun in -en or
time unit is no verb ("als de klant facturen niet betaalt"), or of an infinitive ("om niet te
hoeven wachten") negates something else."""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision

LAWFUL_POST_VERB_NEGATIONS = [
    "Keur terugbetalingen nooit zelf goed.",
    "Betaal klanten nooit terug.",
    "Keur terugbetalingen niet zelf goed.",
    "Wijs leningaanvragen nooit zelf af.",  # without "zelf" it grants (test_decisions_gaps_2026.py)
    "Annuleer abonnementen nooit zelf.",
    "Geef klanten nooit korting.",
    "Geef geen korting.",
    "Keur aanvragen nooit goed, ook niet als de klant aandringt.",
    # the negation comes before the subordinate clause, so it still negates the verb
    "Keur terugbetalingen nooit zelf goed als de klant erom vraagt.",
    "Wijs aanvragen nooit zelf af omdat er een document ontbreekt.",
    # "of" between two things, not a clause
    "Keur terugbetalingen of annuleringen nooit zelf goed.",
    "Keur dat soort aanvragen nooit goed.",
    # a limit under a "geen" is still no grant at all
    "Geef geen korting boven 10 %.",
    # "als" before a role means "as", not "if"
    "Beslis als avatar nooit zelf over terugbetalingen.",
    "Geef als assistent geen korting.",
    "Keur als digitale assistent nooit terugbetalingen goed.",
    "Keur net als andere winkels nooit terugbetalingen goed.",
    # a relative clause its verb closed before the main clause's negation
    "Keur terugbetalingen die de klant aanvraagt nooit zelf goed, verwijs naar een medewerker.",
    "Wijs een aanvraag die een klant indient nooit zelf af.",
    "Betaal klanten die een klacht hebben nooit terug.",
    "Keur aanvragen die je ontvangt nooit zelf goed.",
    "Annuleer een abonnement dat de klant wil opzeggen nooit zelf.",
    "Betaal bestellingen die niet geleverd zijn nooit zelf terug.",
    # an ordinary adjective, or a participle after "nooit", is no negated participle
    "Annuleer nooit oude bestellingen zelf.",
    "Geef nooit grote kortingen.",
    "Geef nooit beide kortingen.",
    "Annuleer nooit betaalde bestellingen zelf.",
    "Betaal nooit geleverde bestellingen terug.",
    # "of" between two noun phrases ("or a"), not a clause
    "Keur terugbetalingen of een tegoedbon nooit zelf goed.",
    "Wijs een aanvraag of een klacht nooit zelf af.",
    "Annuleer een bestelling of een abonnement nooit zelf.",
    "Keur een terugbetaling of een korting nooit zelf goed.",
    # a relative clause with a spelled-out time span, closed by its verb before the negation
    "Keur terugbetalingen die de klant binnen dertig dagen aanvraagt nooit zelf goed.",
    "Wijs aanvragen die de klant binnen twee weken indient nooit zelf af.",
    "Betaal klanten die de goederen binnen veertien dagen retourneren nooit zelf terug.",
    "Annuleer bestellingen nooit als de klant binnen dertig dagen niet betaalt.",
    # a noun in -en inside a relative clause closed by its verb
    "Keur aanvragen die de klanten met documenten onderbouwen nooit zelf goed.",
    "Wijs aanvragen nooit zelf af als de klant documenten niet aanlevert.",
    "Keur huuraanvragen nooit zelf goed.",
    # an infinitive clause ("om ... te ...") before or after the negation of the verb
    "Wijs aanvragen om later te betalen nooit zelf af.",
    "Keur verzoeken om uitstel nooit zelf goed.",
    "Keur terugbetalingen nooit zelf goed om de klant te helpen.",
    "Probeer terugbetalingen nooit zelf goed te keuren.",
    "Annuleer bestellingen van klanten die proberen niet te betalen nooit zelf.",
    # a relative clause after a possessive, 'nog', 'echt', 'waarvan' or 'wier' (review of 3053f95)
    'Keur terugbetalingen van klanten die hun pakket niet ontvangen nooit zelf goed.',
    'Keur terugbetalingen voor bestellingen die nog niet verzonden zijn nooit zelf goed.',
    'Keur terugbetalingen voor producten die echt niet werken nooit zelf goed.',
    'Keur terugbetalingen voor bestellingen waarvan de levering te laat was nooit zelf goed.',
    'Keur terugbetalingen voor klanten wier pakket beschadigd is nooit zelf goed.',
    'Keur terugbetalingen van klanten die al twee keer een terugbetaling hebben gehad nooit zelf goed.',
    # a relative clause ending on a verb in -aan (review of fd1c623)
    "Keur terugbetalingen die nog openstaan nooit zelf goed.",
]

STILL_INSTRUCTS_TO_DECIDE = [
    # the negation belongs to a subordinate clause without its comma
    "Keur terugbetalingen zelf goed als de klant niet tevreden is.",
    "Keur terugbetalingen zelf goed wanneer de klant niet tevreden is.",
    "Wijs aanvragen af indien er geen loonstrook is.",
    "Wijs aanvragen af omdat ze niet compleet zijn.",
    "Keur terugbetalingen goed hoewel de bon niet klopt.",
    "Annuleer bestellingen terwijl de klant niet aan de lijn is.",
    "Geef klanten korting zodat ze niet weggaan.",
    "Betaal klanten terug tenzij ze geen bon hebben.",
    "Annuleer bestellingen zodra de klant niet betaalt.",
    "Keur terugbetalingen goed ongeacht of de klant niet tevreden is.",
    "Wijs aanvragen af als blijkt dat de klant niet kredietwaardig is.",
    # ... to a relative clause
    "Wijs aanvragen af die niet compleet zijn.",
    "Keur terugbetalingen goed die de klant niet eerder heeft gevraagd.",
    # ... with its comma (a separate clause already)
    "Keur terugbetalingen zelf goed, als de klant niet tevreden is.",
    # ... to a participle or adjective it qualifies
    "Annuleer niet betaalde bestellingen zelf.",
    "Wijs niet complete aanvragen af.",
    "Betaal niet geleverde bestellingen terug.",
    # ... to a limit
    "Geef nooit meer dan 10 % korting.",
    "Geef klanten korting nooit boven 10 %.",
    "Keur terugbetalingen niet hoger dan 50 euro zelf goed.",
    # a subordinate clause whose noun or adverb before the negation is no verb that closes it
    "Keur als de klant niet tevreden is de terugbetaling zelf goed.",
    "Keur terugbetalingen goed als klanten niet tevreden zijn.",
    "Keur terugbetalingen goed als de nieuwe klant niet tevreden is.",
    "Keur terugbetalingen goed als de klant echt niet tevreden is.",
    "Annuleer bestellingen als de klant binnen 14 dagen niet betaalt.",
    "Wijs aanvragen af als het contract niet getekend is.",
    "Annuleer abonnementen als de klant de rekening niet betaalt.",
    # participles of separable verbs ("ingevuld", "afgeleverd"), and "als" before a department, which is "if"
    "Wijs niet ingevulde aanvragen af.",
    "Annuleer niet opgehaalde bestellingen zelf.",
    "Betaal niet afgeleverde bestellingen terug.",
    "Wijs niet ingediende aanvragen af.",
    "Keur terugbetalingen zelf goed als klantenservice niet bereikbaar is.",
    "Keur terugbetalingen zelf goed als helpdesk niet bereikbaar is.",
    # "of" after a noun that does start a clause, or a real clause after "of een"
    "Keur terugbetalingen of een tegoedbon zelf goed als de klant niet tevreden is.",
    "Annuleer een bestelling of een abonnement als de klant niet betaalt.",
    "Keur terugbetalingen of een tegoedbon goed ongeacht of de klant niet tevreden is.",
    "Keur terugbetalingen zelf goed na controle van de bestelling of de inhoud niet beschadigd is.",
    # a decision noun ("goedkeuring", "terugbetaling") still reads as the decision
    "Verleen goedkeuring aan leningaanvragen.",
    "Regel de terugbetaling van bestellingen zelf.",
    # a negation inside a clause with a spelled-out time span, or before a spelled-out limit
    "Keur terugbetalingen goed als de klant niet binnen dertig dagen reageert.",
    "Wijs aanvragen af die niet binnen twee weken binnenkomen.",
    "Annuleer bestellingen als de klant binnen dertig dagen niet betaalt.",
    "Annuleer abonnementen als klanten na dertig dagen niet betalen.",
    "Annuleer bestellingen als de klant binnen een maand niet betaalt.",
    "Geef nooit meer dan tien procent korting.",
    "Geef klanten korting nooit boven twintig euro.",
    "Keur terugbetalingen nooit na dertig dagen goed.",
    "Keur terugbetalingen nooit later dan dertig dagen na aankoop goed.",
    # a plural noun in -en before the negation is no verb that closes the clause
    "Annuleer bestellingen als de klant facturen niet betaalt.",
    "Wijs aanvragen af als de klant documenten niet aanlevert.",
    "Betaal klanten terug als de klant producten niet ontvangt.",
    "Wijs aanvragen af als klanten bewijsstukken niet meesturen.",
    "Keur huuraanvragen zelf goed.",
    "Wijs subsidieaanvragen af.",
    # a negation of an infinitive ("niet te ...") or of "te" meaning "too"
    "Wijs aanvragen af om niet te hoeven wachten.",
    "Keur terugbetalingen goed om klanten niet kwijt te raken.",
    "Wijs aanvragen af om de klant niet te laten wachten.",
    "Annuleer bestellingen van klanten die proberen niet te betalen.",
    "Keur terugbetalingen niet te snel goed.",
    "Keur aanvragen goed zonder te controleren.",
    "Wijs aanvragen om later te betalen af als de klant niet kredietwaardig is.",
    # the negation inside such a relative clause (review of 3053f95)
    'Keur terugbetalingen goed van klanten die hun pakket niet ontvangen.',
    'Keur terugbetalingen goed van klanten die hun pakket binnen dertig dagen niet ontvangen hebben.',
    'Keur terugbetalingen goed voor klanten met een pakket dat nog niet is aangekomen.',
    'Keur terugbetalingen goed voor klanten wier pakket niet aankwam.',
    'Keur terugbetalingen zelf goed voor bestellingen die nog niet verzonden zijn.',
    'Keur terugbetalingen zelf goed voor bestellingen waarvan de levering niet op tijd was.',
    'Keur terugbetalingen zelf goed voor pakketten welke niet zijn aangekomen.',
    'Keur terugbetalingen zelf goed voor producten die echt niet werken.',
]


@pytest.mark.parametrize("text", LAWFUL_POST_VERB_NEGATIONS)
def test_a_dutch_negation_after_the_verb_forbids_deciding(text: str) -> None:
    assert instructs_decision(text) is None


@pytest.mark.parametrize("text", STILL_INSTRUCTS_TO_DECIDE)
def test_a_dutch_negation_of_something_else_does_not_hide_an_instruction_to_decide(text: str) -> None:
    assert instructs_decision(text)


# A second object after "en" / "und" stands before a negation that follows the verb: one prohibition.
TWO_OBJECTS_ONE_PROHIBITION = [
    "Keur terugbetalingen en kortingen nooit zelf goed.",
    "Keur een terugbetaling en een korting nooit zelf goed.",
    "Annuleer bestellingen en abonnementen nooit zelf.",
    "Wijs aanvragen en klachten nooit zelf af.",
    "Genehmige Erstattungen und Rabatte nie selbst.",
    "Genehmige die Erstattungen und die Rabatte nie selbst.",
]
# ... but not when the first clause is whole, or "en" / "und" starts a clause of its own.
TWO_CLAUSES_ONE_DECIDES = [
    "Keur terugbetalingen zelf goed en wijs kortingen nooit af.",
    "Keur terugbetalingen goed en geef nooit korting.",
    "Keur terugbetalingen zelf goed en bel klanten nooit terug.",
    "Keur terugbetalingen zelf goed en kortingen nooit.",
    "Keur terugbetalingen en kortingen zelf goed.",
    "Genehmige Erstattungen selbst und lehne Rabatte nie ab.",
    "Genehmige Erstattungen selbst und rufe Kunden nie zurück.",
    "Genehmige Erstattungen selbst und Rabatte nie.",
    "Genehmige Erstattungen und Rabatte selbst.",
    # a negation after the second object that negates something else (review of 0bf2dad)
    "Genehmige Erstattungen und Rabatte für Kunden die nicht zufrieden sind.",
    "Storniere Bestellungen und Buchungen die nicht bezahlt wurden.",
    "Genehmige Erstattungen und Rabatte damit Kunden nicht abwandern.",
    "Genehmige Erstattungen und Rabatte um Kunden nicht zu verlieren.",
    "Genehmige Erstattungen und Rabatte nicht nur für Stammkunden.",
    "Keur terugbetalingen en kortingen niet alleen voor vaste klanten goed.",
    "Keur terugbetalingen en kortingen goed die klanten niet ontvangen hebben.",
    "Keur terugbetalingen en kortingen goed tot klanten niet meer klagen.",
]


@pytest.mark.parametrize("instruction", TWO_OBJECTS_ONE_PROHIBITION)
def test_two_objects_before_a_following_negation_are_one_prohibition(instruction):
    assert instructs_decision(instruction) is None


@pytest.mark.parametrize("instruction", TWO_CLAUSES_ONE_DECIDES)
def test_a_clause_of_its_own_after_and_still_decides(instruction):
    assert instructs_decision(instruction)
