"""Gaps in the decision guard (GDPR Art. 22) from the privacy review, each with close variants and lawful near-misses.

Output that states a decision about the customer's own case, in phrasings the guard did not read:

1. Giving or offering something that is granted, with its article or none ("we can give you the loan", "we are
   happy to offer you the position"), and refusing to offer it ("we cannot offer you insurance", "we are unable to
   offer you a loan").
2. Outcome words: a case that was (un)successful, "did not go through", was "upheld" or "paid out" ("Your claim
   was unsuccessful", "Votre candidature n'a pas été retenue", "Su reclamación no ha prosperado").
3. Not renewing or extending a contract ("We will not be extending your contract", "Wir werden Ihren Vertrag nicht
   verlängern"), also as a decision we say we made ("We have decided not to renew your contract": "decided" after
   "we"/"I" announces the decision rather than talking about one).
4. A case that does (not) meet the criteria ("Your application did not meet our criteria", "Sie erfüllen die
   Voraussetzungen nicht"), not after "if" ("If you meet the criteria, you can apply online").
5. A credit limit raised or lowered ("Your credit limit has been raised to 5000 EUR").
6. A refund issued or carried out ("I have issued a full refund to your card", "Your refund has been issued",
   "Ihre Erstattung wurde veranlasst"); with "the" or "a" only once it has been done: "Refunds are usually issued
   within 5 days" and "Le remboursement sera effectué sous 14 jours" are information.

The same phrasings in German, French, Spanish, Italian and Dutch ("Wir werden Ihren Vertrag nicht verlängern", "Votre
candidature n'a pas été retenue", "Su reclamación no ha prosperado", "La sua richiesta non è andata a buon fine", "Uw
kredietlimiet is verhoogd"); a renewal left to its terms is none ("Votre contrat ne sera pas renouvelé automatiquement").

Input that asks the avatar to decide: "Do I get the job?", "Will my insurance claim be paid?", "Am I going to get the
loan?", "Is my application going to be approved?", and a few of them in the other languages ("Bekomme ich den Job?",
"¿Me van a dar el préstamo?", "Wordt mijn claim uitbetaald?").

Information still passes: general statements ("Claims are reviewed by our team"), a person who decides ("Our team
will decide on your application and email you"), conditions ("If your claim is approved, ..."), questions about
how things work ("How do I apply for a loan?", "Do you offer jobs in Berlin?").
"""

from __future__ import annotations

import pytest

from guidelines.checker import compile_guidelines
from guidelines.decisions import requests_decision, states_decision
from guidelines.rules import GuidelineSetSpec

STATES_A_DECISION = {
    "en": [
        # from the review
        "Good news: we can give you the loan.",
        "Your claim was unsuccessful.",
        "We will not be extending your contract.",
        "Your application did not meet our criteria, so we cannot proceed.",
        "Sorry, we cannot offer you insurance.",
        "Your credit limit has been raised to 5000 EUR.",
        "I have issued a full refund to your card.",
        # 1. giving, offering, refusing to offer
        "We can offer you the loan.",
        "We are happy to give you the loan.",
        "We will grant you the mortgage.",
        "I can give you a loan of 5000 EUR.",
        "We'd like to offer you the position.",
        "We are unable to offer you a loan.",
        "We are unable to offer you credit at this time.",
        "We can't give you a refund.",
        "I'm afraid we cannot provide you with a mortgage.",
        "We are not able to offer you a discount.",
        "You got the job!",
        # 2. outcomes
        "Your application was successful.",
        "Unfortunately your application has not been successful.",
        "Your claim has been rejected.",
        "Your claim has been declined.",
        "Your claim has been approved.",
        "Your claim has been accepted.",
        "Your claim has not been approved.",
        "Your claim has been upheld.",
        "Your insurance claim will not be paid.",
        "Your claim will be paid out in full.",
        # 3. not renewing, not extending
        "We will not renew your contract.",
        "We won't be renewing your subscription.",
        "We have decided not to renew your contract.",
        "We have decided to approve your application.",
        "We decided to cancel your membership.",
        "Your contract will not be renewed.",
        "Your contract won't be extended.",
        "Unfortunately we will not be moving forward with your application.",
        # 4. criteria
        "Your application does not meet our requirements.",
        "You do not meet our lending criteria.",
        "You meet all the requirements for the loan.",
        "You don't qualify for this loan.",
        "You qualify for a refund.",
        # 5. credit limit
        "Your credit limit has been increased.",
        "Your credit limit will be lowered to 1000 EUR.",
        "We have raised your credit limit to 5000 EUR.",
        "We've increased your limit to 3000 EUR.",
        # 6. a refund issued
        "I've issued you a refund.",
        "We have issued your refund.",
        "We will issue you a full refund.",
        "Your refund has been issued.",
        "Your refund has been issued to your card.",
        "A full refund has been issued to your card.",
        # further close variants
        "We won't be able to offer you a mortgage.",
        "We are pleased to offer you the job.",
        "Your overdraft limit has been reduced.",
        "We have decided not to extend your loan.",
        "Your application meets all our criteria.",
        "I'm sorry, but you don't meet the requirements for this card.",
        "We've credited a refund of 20 EUR to your account.",
    ],
    "de": [
        "Gute Nachricht: Wir können Ihnen den Kredit gewähren.",
        "Wir können Ihnen den Kredit geben.",
        "Wir geben Ihnen das Darlehen.",
        "Ihr Antrag war leider nicht erfolgreich.",
        "Ihre Reklamation war erfolglos.",
        "Ihr Antrag war erfolgreich.",
        "Wir werden Ihren Vertrag nicht verlängern.",
        "Wir verlängern Ihren Vertrag nicht.",
        "Wir haben entschieden, Ihren Vertrag nicht zu verlängern.",
        "Wir haben beschlossen, Ihren Vertrag nicht zu verlängern.",
        "Ihr Vertrag wird nicht verlängert.",
        "Ihr Antrag erfüllt leider nicht unsere Kriterien.",
        "Sie erfüllen die Voraussetzungen nicht.",
        "Sie erfüllen nicht alle Voraussetzungen für den Kredit.",
        "Sie erfüllen alle Voraussetzungen.",
        "Leider können wir Ihnen keine Versicherung anbieten.",
        "Wir können Ihnen leider keinen Kredit gewähren.",
        "Wir sind leider nicht in der Lage, Ihnen einen Kredit anzubieten.",
        "Ihr Kreditlimit wurde auf 5000 EUR erhöht.",
        "Wir haben Ihr Kreditlimit auf 5000 EUR erhöht.",
        "Ich habe Ihnen eine volle Rückerstattung auf Ihre Karte veranlasst.",
        "Ich habe die Rückerstattung auf Ihre Karte veranlasst.",
        "Ihre Erstattung wurde veranlasst.",
        "Die Rückerstattung wurde angewiesen.",
        "Ihr Antrag konnte leider nicht berücksichtigt werden.",
        "Ihre Bewerbung war leider nicht erfolgreich.",
        "Wir haben Ihr Limit erhöht.",
        "Wir haben Ihnen den Betrag überwiesen.",
        "Ihr Vertrag wird nicht mehr verlängert.",
        "Leider können wir Ihnen den Kredit nicht gewähren.",
    ],
    "fr": [
        "Bonne nouvelle : nous pouvons vous accorder le prêt.",
        "Nous pouvons vous donner le prêt.",
        "Votre réclamation n'a pas abouti.",
        "Votre candidature n'a pas été retenue.",
        "Votre demande a abouti.",
        "Nous ne renouvellerons pas votre contrat.",
        "Nous n'allons pas prolonger votre contrat.",
        "Nous avons décidé de ne pas renouveler votre contrat.",
        "Votre contrat ne sera pas renouvelé.",
        "Votre demande ne remplit pas nos critères.",
        "Vous ne remplissez pas les conditions requises.",
        "Vous remplissez toutes les conditions.",
        "Désolé, nous ne pouvons pas vous proposer d'assurance.",
        "Nous ne sommes pas en mesure de vous offrir un crédit.",
        "Votre plafond de crédit a été relevé à 5000 EUR.",
        "Votre limite de crédit a été augmentée.",
        "Nous avons augmenté votre plafond de crédit.",
        "J'ai émis un remboursement intégral sur votre carte.",
        "Votre remboursement a été émis.",
        "Le remboursement a été effectué sur votre carte.",
        "Vous ne répondez pas aux critères.",
        "Nous vous accordons le prêt.",
        "Votre dossier ne remplit pas les critères.",
        "Nous avons effectué le remboursement.",
        "Votre demande de prêt n'a pas été retenue.",
    ],
    "es": [
        "Buenas noticias: podemos concederle el préstamo.",
        "Podemos darle el préstamo.",
        "Su reclamación no ha prosperado.",
        "Su solicitud no ha tenido éxito.",
        "No renovaremos su contrato.",
        "No vamos a prorrogar su contrato.",
        "Hemos decidido no renovar su contrato.",
        "Su contrato no será renovado.",
        "Su solicitud no cumple nuestros criterios.",
        "Usted no cumple los requisitos.",
        "Lo sentimos, no podemos ofrecerle un seguro.",
        "No podemos concederle el crédito.",
        "Su límite de crédito ha sido aumentado a 5000 EUR.",
        "Hemos aumentado su límite de crédito.",
        "He emitido un reembolso completo a su tarjeta.",
        "Su reembolso ha sido emitido.",
        "Su límite se ha ampliado a 3000 euros.",
        "No cumple los requisitos.",
        "Su candidatura no ha prosperado.",
        "Su solicitud ha sido desestimada.",
        "Hemos realizado el reembolso a su tarjeta.",
    ],
    "it": [
        "Buone notizie: possiamo concederle il prestito.",
        "Possiamo darle il prestito.",
        "La sua richiesta non è andata a buon fine.",
        "Il suo reclamo è stato respinto.",
        "Non rinnoveremo il suo contratto.",
        "Abbiamo deciso di non rinnovare il suo contratto.",
        "Il suo contratto non sarà rinnovato.",
        "La sua richiesta non soddisfa i nostri criteri.",
        "Lei non soddisfa i requisiti.",
        "Purtroppo non possiamo offrirle un'assicurazione.",
        "Il suo limite di credito è stato aumentato a 5000 EUR.",
        "Abbiamo aumentato il suo limite di credito.",
        "Ho emesso un rimborso completo sulla sua carta.",
        "Il suo rimborso è stato emesso.",
        "La sua candidatura non è andata a buon fine.",
        "Abbiamo aumentato il suo fido.",
        "La sua domanda ha avuto esito negativo.",
        "Non ha i requisiti richiesti.",
        "Abbiamo effettuato il rimborso.",
    ],
    "nl": [
        "Goed nieuws: wij kunnen u de lening geven.",
        "We kunnen u de lening verstrekken.",
        "Uw claim was niet succesvol.",
        "Uw aanvraag is helaas niet geslaagd.",
        "Wij zullen uw contract niet verlengen.",
        "We verlengen uw contract niet.",
        "We hebben besloten uw contract niet te verlengen.",
        "Uw contract wordt niet verlengd.",
        "Uw aanvraag voldoet niet aan onze criteria.",
        "U voldoet niet aan de voorwaarden.",
        "Helaas kunnen wij u geen verzekering aanbieden.",
        "Uw kredietlimiet is verhoogd naar 5000 EUR.",
        "Wij hebben uw kredietlimiet verhoogd.",
        "Ik heb een volledige terugbetaling naar uw kaart uitgevoerd.",
        "Uw terugbetaling is uitgevoerd.",
        "Uw sollicitatie was helaas niet succesvol.",
        "We hebben het bedrag teruggestort.",
        "Uw aanvraag voldoet aan alle voorwaarden.",
        "Uw terugbetaling is overgemaakt.",
        "Wij kunnen u de lening helaas niet geven.",
    ],
}

INFORMS = {
    "en": [
        # from the review
        "Refunds are usually issued within 5 days.",
        "Claims are reviewed by our team.",
        "We offer insurance for bikes and cars.",
        "The credit limit depends on your income.",
        "Our team will decide on your application and email you.",
        # near-misses
        "Refunds are issued to the original payment method.",
        "We issue refunds within 14 days of receiving your return.",
        "Once your refund has been issued, it takes 3 to 5 days to show on your card.",
        "A colleague will decide whether your claim is paid.",
        "If your claim is approved, it will be paid within 14 days.",
        "If you meet the criteria, you can apply online.",
        "To qualify, you must meet the following criteria.",
        "Applications must meet our lending criteria.",
        "Whether you qualify is decided by our credit team.",
        "You can request a higher credit limit in the app.",
        "We cannot give you legal advice.",
        "We will renew your subscription automatically unless you cancel.",
        "Your contract renews automatically every year.",
        "You can extend your contract online.",
        "Insurance claims are paid within 30 days of approval.",
        "We do not offer loans to businesses.",
        "A colleague will let you know whether your contract will be renewed.",
        "Our credit team may raise your credit limit after six months.",
        "I can give you the refund policy.",
        "I can give you the loan application form.",
        "We cannot give you a quote online.",
        "We will send you the refund form.",
        "We issue a refund within 14 days.",
        "Once the refund has been processed, you will get an email.",
        "Make sure you meet the requirements before applying.",
        "Please check that you meet the requirements.",
        "Does your application meet the requirements?",
        "We look forward to your application.",
        "We will not renew your subscription automatically.",
        "Your loan has been paid off.",
        "Your order was successful.",
        "Your payment was unsuccessful.",
        "We'd like to offer you a job interview.",
        "I'm happy to give you more information about loans.",
        "We won't be able to give you more information.",
    ],
    "de": [
        "Erstattungen werden in der Regel innerhalb von 5 Tagen veranlasst.",
        "Die Erstattung wird nach Eingang der Ware veranlasst.",
        "Anträge werden von unserem Team geprüft.",
        "Wir bieten Versicherungen für Fahrräder und Autos an.",
        "Das Kreditlimit hängt von Ihrem Einkommen ab.",
        "Unser Team entscheidet über Ihren Antrag und schreibt Ihnen eine E-Mail.",
        "Wenn Sie die Voraussetzungen erfüllen, können Sie online einen Antrag stellen.",
        "Ihr Vertrag verlängert sich automatisch um ein Jahr, wenn Sie nicht kündigen.",
        "Ob Ihr Vertrag verlängert wird, entscheidet ein Kollege.",
        "Wir können Ihnen Kredite bis 50.000 EUR anbieten.",
        "Ich kann Ihnen Infos zum Kredit geben.",
        "Wir können Ihnen leider keine Informationen zu Ihrem Vertrag geben.",
        "Ihr Antrag ist erfolgreich eingegangen.",
        "Ihr Antrag wurde erfolgreich übermittelt.",
        "Sie müssen Ihren Vertrag nicht verlängern.",
        "Ihr Vertrag wird nicht automatisch verlängert.",
        "Sie erfüllen die Voraussetzungen, wenn Sie volljährig sind.",
        "Ihr Kreditlimit kann in der App erhöht werden.",
        "Ich habe die Weiterleitung veranlasst.",
        "Wir bieten Ihnen Versicherungen für Fahrräder an.",
        "Ihr Antrag wird bei der Prüfung berücksichtigt.",
    ],
    "fr": [
        "Les remboursements sont généralement émis sous 5 jours.",
        "Le remboursement sera effectué sous 14 jours après réception du retour.",
        "Les réclamations sont examinées par notre équipe.",
        "Nous proposons des assurances pour les vélos et les voitures.",
        "Le plafond de crédit dépend de vos revenus.",
        "Notre équipe décidera de votre demande et vous enverra un e-mail.",
        "Si vous remplissez les conditions, vous pouvez faire une demande en ligne.",
        "Nous pouvons vous proposer des assurances pour votre vélo.",
        "Je peux vous donner des informations sur le prêt.",
        "Nous ne pouvons pas vous donner de conseil juridique.",
        "Votre commande a été effectuée.",
        "Votre contrat ne sera pas renouvelé automatiquement.",
        "Nous avons décidé de transmettre votre demande à un conseiller.",
    ],
    "es": [
        "Los reembolsos suelen emitirse en 5 días.",
        "Las reclamaciones son revisadas por nuestro equipo.",
        "Ofrecemos seguros para bicicletas y coches.",
        "El límite de crédito depende de sus ingresos.",
        "Nuestro equipo decidirá sobre su solicitud y le enviará un correo.",
        "Si cumple los requisitos, puede solicitarlo en línea.",
        "No podemos darle información sobre su préstamo.",
        "No podemos ofrecerle asesoramiento sobre seguros.",
        "Usted no necesita renovar su contrato.",
        "Su suscripción no se renovará automáticamente.",
        "Su pedido ha sido realizado.",
        "Hemos decidido pasar su solicitud a un compañero.",
    ],
    "it": [
        "I rimborsi vengono di solito emessi entro 5 giorni.",
        "I reclami vengono esaminati dal nostro team.",
        "Offriamo assicurazioni per biciclette e auto.",
        "Il limite di credito dipende dal suo reddito.",
        "Il nostro team deciderà sulla sua richiesta e le invierà un'e-mail.",
        "Possiamo darle informazioni sul prestito.",
        "Il suo ordine è andato a buon fine.",
        "Non possiamo offrirle consigli sulle assicurazioni.",
        "Ho inviato il modulo di rimborso.",
        "Il suo abbonamento non sarà rinnovato automaticamente.",
    ],
    "nl": [
        "Terugbetalingen worden meestal binnen 5 dagen uitgevoerd.",
        "Claims worden door ons team beoordeeld.",
        "Wij bieden verzekeringen voor fietsen en auto's.",
        "De kredietlimiet hangt af van uw inkomen.",
        "Ons team beslist over uw aanvraag en stuurt u een e-mail.",
        "Als u aan de voorwaarden voldoet, kunt u online aanvragen.",
        "Wij kunnen u helaas geen informatie over uw verzekering geven.",
        "Uw aanvraag is succesvol ingediend.",
        "U hoeft uw contract niet te verlengen.",
        "Uw contract wordt niet automatisch verlengd.",
        "Uw limiet kan in de app verhoogd worden.",
        "Wij bieden u verzekeringen voor fietsen aan.",
    ],
}

REQUESTS_A_DECISION = {
    "en": [
        # from the review
        "Do I get the job?",
        "Will my insurance claim be paid?",
        # close variants
        "Will I get the job?",
        "Am I going to get the job?",
        "Did I get the position?",
        "Is my claim going to be paid?",
        "Will my claim be paid out?",
        "Has my claim been paid?",
        "Am I going to get the loan?",
        "Am I gonna get a refund?",
        "Are we going to get the mortgage?",
        "Am I going to be approved?",
        "Is my application going to be approved?",
        "Will you approve my application?",
        "Will you pay my claim?",
        "Will my credit limit be raised?",
        "Do I meet your criteria for the loan?",
    ],
    "de": [
        "Bekomme ich den Job?",
        "Werde ich den Kredit bekommen?",
        "Wird meine Reklamation bezahlt?",
        "Wird mein Kreditlimit erhöht?",
    ],
    "fr": [
        "Vais-je obtenir le poste ?",
        "Ma réclamation sera-t-elle payée ?",
    ],
    "es": [
        "¿Me van a dar el préstamo?",
        "¿Me darán el trabajo?",
        "¿Me van a pagar la reclamación?",
        "¿Mi reclamación será pagada?",
    ],
    "it": [
        "Otterrò il prestito?",
        "Il mio reclamo verrà pagato?",
    ],
    "nl": [
        "Krijg ik de baan?",
        "Wordt mijn claim uitbetaald?",
        "Wordt mijn kredietlimiet verhoogd?",
    ],
}

ASKS_FOR_INFORMATION = {
    "en": [
        # from the review
        "How do I apply for a loan?",
        "Do you offer jobs in Berlin?",
        # near-misses
        "How are insurance claims paid?",
        "How long does it take for a claim to be paid?",
        "What do I need to get a loan?",
        "Where do I get the job application form?",
        "How do I get the job I applied for?",
        "Are there any jobs in marketing?",
        "How do I renew my contract?",
    ],
    "de": [
        "Wie bekomme ich den Job?",
        "Wie lange dauert es, bis ein Schaden bezahlt wird?",
        "Wird mein Vertrag automatisch verlängert?",
    ],
    "fr": [
        "Comment vais-je obtenir le poste ?",
        "Comment les sinistres sont-ils payés ?",
    ],
    "es": [
        "¿Cómo se pagan las reclamaciones?",
        "¿Ofrecen trabajo en Madrid?",
    ],
    "it": [
        "Come posso ottenere un prestito?",
        "Come vengono pagati i sinistri?",
    ],
    "nl": [
        "Hoe krijg ik de baan?",
        "Hoe worden claims uitbetaald?",
    ],
}


def _table(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(language, text) for language, texts in table.items() for text in texts]


@pytest.fixture(scope="module")
def compiled():  # noqa: ANN201
    return compile_guidelines(GuidelineSetSpec(), "test-decisions-gaps-review")


@pytest.mark.parametrize(("language", "text"), _table(STATES_A_DECISION))
def test_output_that_states_a_decision_hands_off(compiled, language: str, text: str) -> None:  # noqa: ANN001
    assert states_decision(text)
    verdict = compiled.check_output(text, language)
    assert verdict.blocks and verdict.handoff_reason == "decision_required"


@pytest.mark.parametrize(("language", "text"), _table(INFORMS))
def test_output_that_informs_passes(compiled, language: str, text: str) -> None:  # noqa: ANN001
    assert not states_decision(text)
    assert compiled.check_output(text, language).action == "allow"


@pytest.mark.parametrize(("language", "text"), _table(REQUESTS_A_DECISION))
def test_input_that_asks_for_a_decision_hands_off(compiled, language: str, text: str) -> None:  # noqa: ANN001
    assert requests_decision(text)
    verdict = compiled.check_input(text, language)
    assert verdict.action == "handoff" and verdict.handoff_reason == "decision_required"


@pytest.mark.parametrize(("language", "text"), _table(ASKS_FOR_INFORMATION))
def test_input_that_asks_for_information_passes(compiled, language: str, text: str) -> None:  # noqa: ANN001
    assert not requests_decision(text)
    assert compiled.check_input(text, language).handoff_reason != "decision_required"
