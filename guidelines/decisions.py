"""The decision guard (GDPR Art. 22) and the disclosure checks (EU AI Act Art. 50), in English, German,
French, Spanish, Italian and Dutch.

Avatars inform, humans decide. Three questions, all on folded text (see `normalize`):

- `requests_decision`: does the end customer ask the avatar to decide their own case (approve or
  reject an application, a contract, a cancellation, a refund, credit, eligibility, an individual
  price)? Then the conversation goes to a human. Asking how something works in general is not a
  request for a decision: "how do refunds work?" is answered, "can you approve my refund?" is not.
- `states_decision`: does avatar output announce such a decision ("your loan is approved", "Ihr
  Antrag wurde abgelehnt")? Then the output is blocked.
- `instructs_decision`: does a tenant's style instruction tell the avatar to decide ("approve
  refunds under 50 EUR yourself", "Genehmige Kündigungen selbst")? Then the set is rejected.

The lexicon is hand-written regular expressions per language (in `decision_lexicons`), read
sentence by sentence. A cheap Aho-Corasick pass over every language's trigger words comes first, so
messages without any of them (most) cost one scan, and a sentence only meets the patterns of the
languages whose triggers it holds. The guard does not need to know the conversation's language: a
customer may switch. Other languages are not understood by the guard; the tenant's own rules still
apply there.
"""

from __future__ import annotations

import re
from bisect import bisect_right

import ahocorasick

from guidelines.decision_lexicons import DE, EN, ES, FR, IT, NL, Lexicon
from guidelines.normalize import fold, spelling_variants

# Trigger words per language (substrings of the folded text, so German compounds count): a
# sentence without any of them cannot be a decision request or statement in that language.
# French, Spanish, Italian and Dutch triggers are chosen so that they rarely occur in English or
# German text: "garantie" is left out (German "Garantiebedingungen"), "éligible" counts only in
# phrases ("suis-je éligible"), "prêt" and "crédit" only after a determiner. A stray hit costs
# one language's regexes on one sentence.
_TRIGGERS_EN = """
refund reimburs money compensat chargeback loan credit mortgage financ applica contract cancel terminat subscri
member claim warrant guarant discount price pricing quote rebate eligib entitled qualif insurance approv accept
reject declin deny denied refus grant authori waive revok order booking reservation purchase deal creditworth
decide decision rate offer extension limit right job position hire criteria requirement
"""
_TRIGGERS_DE = """
erstatt geld gutschrift entschäd schadensersatz kredit darlehen finanzier raten stundung antrag anträge vertrag
verträge kündig storn widerruf abo_ abos abonn mitglied bestellung buchung reservierung kauf reklamation garantie
gewährleist kulanz anspruch anrecht rabatt nachlass preis berechtig genehmig bewillig ablehn lehn akzeptier gewähr
zusag freigeb entscheid voraussetzung qualifizier zugelassen angebot konditionen recht steht_mir steht_uns
versicherung leistung deal zurück überwies bewerbung ihr_limit dein_limit
"""
_TRIGGERS_FR = """
rembours argent dédommag indemnis un_crédit mon_crédit le_crédit du_crédit de_crédit ce_crédit votre_crédit
un_prêt mon_prêt le_prêt du_prêt ce_prêt votre_prêt prêts emprunt hypothèque financement demande dossier
candidature contrat résili annul abonnement adhésion réclamation remise une_réduction la_réduction de_réduction
ma_réduction rabais ristourne prix tarif devis suis-je_élig je_suis_élig sommes-nous_élig êtes_élig pas_élig
serais-je_élig admissib droit_a droit_au assurance approuv accept refus
rejet accorde accordons valide révoqu octroi commande achat billet geste_commercial décider décidez statuer statuez
échéanc baiss critères exigences
"""
_TRIGGERS_ES = """
reembols devoluci devuelv devolv dinero compensaci indemniz préstamo crédito hipoteca financiaci financiamiento
solicitud contrato cancela anul de_baja rescind suscrip membresía afiliaci reclam descuento rebaj precio tarifa
presupuesto elegib derecho_a seguro aplazamiento prórroga aprob aprueb acept rechaz deneg conced otorg autoriz
tramit pedido compra cumpl califica califico requisitos decidir decida resolver resuelva candidatura su_límite tu_límite
"""
_TRIGGERS_IT = """
rimbors i_miei_soldi soldi_indietro i_soldi restitui indennizz risarciment compensazion prestit credito crediti mutuo finanziament
richiesta richieste domanda contratt disdett disdi annull recesso abbonament iscrizion reclam scont riduzion prezz
idone ammissibil assicurazion rateizz dilazion proroga approvar approvat approvi accett rifiut respin conced
autorizz revoc ordine ordini prenotazion acquist bigliett decidere decida diritto requisiti candidatura suo_limite tuo_limite
suo_fido tuo_fido
"""
_TRIGGERS_NL = """
terugbetal terugstort restitutie restitueer geld_terug mijn_geld vergoeding compensatie lening krediet hypotheek
financiering betaal betalen aanvraag aanvragen verzoek overeenkomst opzeg mijn_abonnement het_abonnement abonnement_op lidmaatschap
korting prijs tarief offerte aanmerking recht_op verzekering betalingsregeling uitstel goedkeur goedgekeurd keur
accepteer geaccepteerd aanvaard afwijz afgewezen wijs weigeren weigert geweigerd weiger_ toeken toegekend annuleer
annuleren geannuleerd bestelling boeking reservering beslis voorwaarden uw_contract je_contract jouw_contract uw_claim
je_claim jouw_claim sollicitatie teruggestort uitbetaald
"""
# What only an instruction may decide besides the trigger words' objects: returns and fees (`Lexicon.instruct_obj`,
# `instruct_self`). Read by `instructs_decision` alone, as whole words: in the shared automaton "fee" and
# "return" were triggers in "feel", "coffee" and "returning customers", and Italian "resi"/"reso" in
# "president" and "resolve", so chat messages paid for other languages' patterns and style instructions on
# feelings met the decision patterns. "return" as a verb ("customers who return to the chat") is none.
_INSTRUCT_TRIGGER = re.compile(
    r"\b(?:returns?\b(?! to\b| (?:again|later|often|back)\b)|fees?\b|penalt(?:y|ies)\b|surcharges?\b"
    r"|\w*(?:ru(?:e)?cksend|retoure|ru(?:e)?ckgabe|umtausch)|\w*gebu(?:e)?hr"
    r"|retours?\b|frais\b|penalites?\b|comision|recargos?\b|penalizaci"
    r"|resi\b|reso\b|commission[ei]\b|penal[ei]\b|spese\b|retour|boete|toeslag)"
)
# Words without which the `strong` patterns cannot match: those patterns (the costliest) only run
# on sentences that hold one of them.
_STRONG_EN = """
eligib entitled qualif creditworth approved accepted meet_the right_to granted rejected declined denied refused
cancel terminated processed authori decide decision rule_on rule_about rule_regarding price rate discount limit
deal rebate offer quote job position hired employed paid upheld honoured honored going_to_be gonna_be meet_your meet_our
meet_all pay_my pay_out settle_my cover_my honour_my honor_my successful
"""
_STRONG_DE = """
berechtigt kreditwürdig qualifiziert zugelassen anspruch recht steht_mir steht_uns erfülle qualifizier genehmigt
bewilligt angenommen abgelehnt akzeptiert storniert gekündigt erstattet bearbeitet gewährt freigegeben zugesagt
entscheid preis rabatt konditionen angebot nachlass deal gutschrift bekomme_ich kriege_ich werde_ich bezahlt ausgezahlt
übernommen reguliert erhöht angehoben
"""
_STRONG_FR = """
suis-je_élig je_suis_élig sommes-nous_élig serais-je_élig admissib solvab accepté approuv droit_a droit_au remplis réponds accorde refus rejet valide annul résili
rembours traité autoris décider décidez statuer statuez trancher tranchez prix tarif remise réduction rabais
ristourne geste_commercial plafond vais-je aurai-je obtiendrai-je payé pris_en_charge
"""
_STRONG_ES = """
elegib admisib solvente apto apta aprobad aceptad preaprobad califico calificamos cualifico cumplo cumplimos
derecho_a rechazad denegad cancelad anulad concedid otorgad autorizad reembolsad confirmad revocad tramitad procesad
decidir decida resolver resuelva resuelve precio tarifa descuento rebaj oferta mi_límite me_van_a nos_van_a darán pagarán
concederán otorgarán aprobarán pagad abonad cubiert
"""
_STRONG_IT = """
idone ammissibil approvat accettat solvibil diritto requisiti rifiutat respint annullat concess accolt rimborsat
autorizzat disdett elaborat decidere decida decidi prezz scont riduzion mio_limite fammi fatemi dammi datemi concedimi
otterrò avrò riceverò pagat liquidat
"""
_STRONG_NL = """
aanmerking recht_op voldoe voldoen geschikt kredietwaardig toegelaten goedgekeurd geaccepteerd aanvaard afgewezen
geweigerd toegekend geannuleerd opgezegd terugbetaald verwerkt ingewilligd gehonoreerd bevestigd herroepen beslis
besluit oordeel prijs tarief korting limiet krijg_ik krijgen_we krijgen_wij uitbetaald betaald vergoed
verhoogd
"""
# (lexicon, trigger words, strong words); each lexicon gets two bits of the automaton's masks.
_LANGUAGES = (
    (EN, _TRIGGERS_EN, _STRONG_EN),
    (DE, _TRIGGERS_DE, _STRONG_DE),
    (FR, _TRIGGERS_FR, _STRONG_FR),
    (ES, _TRIGGERS_ES, _STRONG_ES),
    (IT, _TRIGGERS_IT, _STRONG_IT),
    (NL, _TRIGGERS_NL, _STRONG_NL),
)
LEXICONS = tuple(lexicon for lexicon, _, _ in _LANGUAGES)
_BITS = tuple((lexicon, 1 << (2 * index), 1 << (2 * index + 1)) for index, (lexicon, _, _) in enumerate(_LANGUAGES))
_AUTOMATON = ahocorasick.Automaton()
for (_lexicon, _trigger_bit, _strong_bit), (_, _triggers, _strong_words) in zip(_BITS, _LANGUAGES, strict=True):
    for _bits, _words in ((_trigger_bit, _triggers), (_trigger_bit | _strong_bit, _strong_words)):
        for _spelling in _words.split():
            for _variant in spelling_variants(_spelling.replace("_", " ")):
                _word = fold(_variant).text
                _AUTOMATON.add_word(_word, (len(_word), _bits | _AUTOMATON.get(_word, (0, 0))[1]))
_AUTOMATON.make_automaton()
_CLAUSE_WORDS = r"but|and|however|aber|und|jedoch|sondern|mais|et|cependant|toutefois|pero|sino|y|sin embargo|tuttavia|maar|echter"
_CLAUSE_END = re.compile(rf"[.!?;\n,:]+|\b(?:{_CLAUSE_WORDS})\b")
# Dutch "en" (and) ends a clause only for Dutch: in French and Spanish it is a preposition, and cutting
# there split "quand l'équipe est en vacances" from its absence and "en appelant le service client"
# from the clause it hands over.
_CLAUSE_END_NL = re.compile(rf"[.!?;\n,:]+|\b(?:{_CLAUSE_WORDS}|en)\b")


def _has_trigger(text: str) -> bool:
    for _ in _AUTOMATON.iter(text):
        return True
    return False


# A person named where they hand nothing over must not excuse the instruction around it the way
# "forward it to a colleague" does: in a condition or reason on staff being away ("if no agent is
# available", "wenn kein Mitarbeiter erreichbar ist", "als de medewerkers er niet zijn", "because the
# team is busy"), after "unless", or after "without" / "instead of" ("without asking a colleague").
# "Approve refunds yourself if staff are not available" tells the avatar to decide, as does a purpose
# clause that spares staff ("Approve refunds yourself so that the team does not have to"). A condition on
# what staff do or on their being there ("only once the manager on duty has signed off", "if a
# colleague agrees", "unless a manager approves it") is left alone: only an absence (a negation, a
# word like "busy", or "unless" staff are there) is removed, and after "without" the words up to the
# person ("without asking a colleague"; not "without delay to a colleague").
_CONDITION = (
    r"if|when|whenever|while|as long as|in case|once|because|since|as|wenn|falls|sofern|solange|sobald|weil|"
    r"da(?= (?:der|die|das|den|dem|ein\w*|kein\w*|niemand|unser\w*|wir|sie|er|es)\b)|si|quand|lorsque?|tant que|des que|"
    r"parce que?|puisque?|car|cuando|mientras|en caso de que|siempre que|porque|ya que|quando|finche|mentre|"
    r"qualora|nel caso|perche|poiche|se(?= (?:non|nessun\w*|il|lo|la|i|gli|le|l|un\w*|tutti|alcun\w*|ci)\b)|"
    r"als|wanneer|indien|zolang|zodra|omdat|want"
)
_ABSENT = (  # staff away, said without a negation
    r"unavailable|offline|busy|away|absent|unreachable|out of office|off duty|on holiday|on vacation|on leave|in (?:a )?meetings?|"
    r"overloaded|swamped|abwesend|unerreichbar|besetzt|beschaftigt|uberlastet|im urlaub|indisponibles?|absente?s?|hors ligne|"
    r"occupee?s?|en vacances|en conge|debordee?s?|ausentes?|ocupad[oa]s?|de vacaciones|desbordad[oa]s?|assent[ei]|occupat[oi]|"
    r"in ferie|sovraccaric\w*|afwezig|onbereikbaar|bezet|op vakantie|overbelast|druk|on strike|im streik|en greve|en huelga|"
    r"in sciopero|in staking"
)
_THERE = (  # staff there or answering: an absence only under a negation
    r"available|online|around|reachable|reached|there|present|at work|in the office|free|answers?|responds?|erreichbar|"
    r"verfugbar|da|anwesend|im dienst|im buro|antwortet|disponibles?|joignables?|presente?s?|en ligne|la|repond\w*|"
    r"localizables?|en linea|conectad[oa]s?|responde\w*|disponibil[ei]|raggiungibil[ei]|in linea|rispond\w*|bereikbaar|"
    r"beschikbaar|aanwezig|vrij|antwoordt|reageert|reageren|er(?= (?:niet|nooit)\b)"
)
_UNLESS = r"unless|es sei denn|sauf si|a moins qu\w*|a menos que|salvo que|salvo si|a meno che|tenzij"
_WITHOUT = (
    r"without|instead of|rather than|ohne|statt|anstatt|anstelle|sans|au lieu de|plutot que|sin|en lugar de|en vez de|"
    r"senza|invece di|anziche|zonder|in plaats van"
)
# A purpose clause that spares staff names them without handing anything over ("so that the team does not
# have to", "damit die Kollegen nicht müssen", "so the staff are relieved"); one where they act ("so that a
# colleague can decide") is left alone. Italian "perché" is left out: it also means "because"; a bare
# "so" only before whom it spares ("so the staff don't need to"), not the German adverb ("so schnell").
_PURPOSE = (
    r"so that|so(?= (?:the|our|your|a|an|no|nobody|staff|colleagues?|employees?|agents?|people|humans?|managers?|teams?)\b)|"
    r"in order that|damit|sodass|so dass|pour que|afin que|para que|a fin de que|affinche|in modo che|cosi che|zodat|opdat"
)
_NO_STAFF = r"no|kein\w*|aucun\w*|ningun\w*|nessun\w*|geen"  # "so that no colleague has to"
_SPARED = (
    r"not|\w+n't|never|no longer|nicht|nie|kein\w*|ne|n|pas|jamais|no|nunca|non|mai|niet|nooit|geen|spared|relieved|"
    r"entlastet|verschont|soulage\w*|epargne\w*|aliviad[oa]s?|sgravat[oi]|ontlast|ontzien"
)
# Staff busy with something else in a purpose clause are spared too ("so that the team can focus on other
# work", "damit sich das Team auf andere Aufgaben konzentrieren kann", "affinché i colleghi possano occuparsi
# d'altro"); not "other" before whom it names ("so that a colleague from other teams can decide") or in a
# phrase that says which staff ("so that the colleague on the other shift can approve them").
_ELSEWHERE = (
    r"other|else|more time|andere\w*|anderes|mehr zeit|autres?|plus de temps|otr[oa]s?|mas tiempo|altr[oaie]|"
    r"piu tempo|ander\w*|meer tijd"
)
_OF = r"from|on|in|of|at|von|vom|aus|im|de|du|des|del|della|dal|dalla|nel|nella|di|van|op|uit|bij"
# An infinitive that spares staff names them without handing anything over ("Approve refunds yourself to spare
# the team", "um das Team zu entlasten", "pour soulager l'équipe"); one that hands over ("um sie an einen
# Kollegen weiterzugeben") is left alone.
_SPARE = (
    r"spare|relieve|unburden|offload|entlasten|schonen|verschonen|soulager|epargner|decharger|alleger|aliviar|descargar|"
    r"ahorrar|sgravare|alleggerire|risparmiare|sollevare|ontlasten|ontzien|sparen"
)
_NO_DELAY = r"delay|verzogerung|vertraging|delai|demora|indugio|ritardo"  # "without delay to a colleague" hands over
# A main clause on staff being away that gives the reason for what follows ("Staff are busy so approve refunds
# yourself", "Das Team ist im Urlaub also genehmige ...", "l'équipe est en vacances donc ...") names them
# without handing anything over, as a condition does.
_SO = (
    r"so|therefore|thus|hence|deshalb|daher|darum|deswegen|also|donc|alors|par consequent|asi que|por eso|por lo tanto|"
    r"entonces|quindi|percio|dunque|dus|daarom"
)
# A decision verb right after "instead of" / "without" is the one not to do ("Invece di approvare i rimborsi,
# inoltra la richiesta a un collega"); German and Dutch put the infinitive last ("statt Erstattungen selbst
# zu genehmigen", "in plaats van terugbetalingen goed te keuren"). Only the verb right there: after
# "instead of asking a colleague approve refunds" the verb is still an instruction, as after French, Spanish
# and Italian "without" ("Sans hésiter approuve les remboursements toi-même", "Senza esitare approva i
# rimborsi da solo"), which is therefore no negation of the whole clause. A French object pronoun may come
# between ("sans les rembourser"), and a second verb after "or" is replaced too ("Invece di approvare o
# rifiutare i rimborsi, ...", "Sans approuver ou refuser la demande, ...").
_CLITICS = r"(?:(?:le|la|les|leur|lui|en|y) ){0,2}"
_REPLACED = re.compile(
    rf"\b(?:{_WITHOUT}) (?:{_CLITICS}[\w']+ (?:or|o|ou|oder|of|u|ni|ne|nor|noch) )?(?:(?:[\w']+ ){{0,4}}?(?:zu|te) |{_CLITICS})$"
)
_STAFF = (
    r"colleagues?|staff|teams?|humans?|persons?|people|employees?|agents?|operators?|managers?|supervisors?|specialists?|"
    r"advisors?|kolleg\w*|mitarbeiter\w*|mensch\w*|berater\w*|collegues?|conseill\w*|equipes?|employes?|humains?|"
    r"companer[oa]s?|colegas?|emplead[oa]s?|equipos?|asesor\w*|collega|colleghi|colleghe|operator\w*|dipendent\w*|squadra|"
    r"medewerk\w*|adviseur\w*|mens|mensen"
)
_STAFF_AWAY = re.compile(
    rf"\b(?:(?P<unless>{_UNLESS})|{_CONDITION}) (?:[\w']+ ){{0,7}}?(?:(?P<absent>{_ABSENT})|{_THERE})\b"
    r"(?: (?:not|niet|nicht|pas|non|no|nooit))?"
    rf"|\b(?P<without>{_WITHOUT}) (?!(?:{_NO_DELAY})\b)(?:[\w']+ ){{0,6}}?(?:{_STAFF})\b"
    rf"|\b(?P<purpose>{_PURPOSE}) (?:[\w']+ ){{0,5}}?"
    rf"(?:(?:{_STAFF})[\w']*(?: [\w']+){{0,3}}? (?:{_SPARED})|(?:{_NO_STAFF}) (?:[\w']+ ){{0,3}}?(?:{_STAFF})"
    rf"|(?:{_STAFF})[\w']*(?! (?:{_OF}) (?:[\w']+ )?(?:{_ELSEWHERE})\b)(?: [\w']+){{0,5}}? (?:{_ELSEWHERE})"
    rf"(?! (?:[\w']+ )?(?:{_STAFF})\b))\b"
    rf"|(?P<spare>\b(?:{_SPARE}) (?:[\w']+ ){{0,3}}?(?:{_STAFF})\b|\b(?:{_STAFF})[\w']*(?: [\w']+){{0,3}}? (?:zu|te) (?:{_SPARE})\b)"
    rf"|(?P<reason>\b(?:[\w']+ ){{0,3}}?(?:{_STAFF})\b(?: [\w']+){{0,4}}? (?:(?P<gone>{_ABSENT})|{_THERE})\b"
    rf"(?: (?:not|niet|nicht|pas|non|no|nooit))?(?: [\w']+){{0,2}}? (?:{_SO})\b)"
)
_NEGATION_ANY = re.compile(
    r"\b(?:not|n't|no|nobody|none|never|cannot|can't|kein\w*|nicht|niemand|nie|aucun\w*|ne|n|pas|personne|nadie|ningun\w*|"
    r"nunca|nessun\w*|non|geen|niet|nooit)\b|n't\b"
)


def _without_staff_away(text: str, reasons_only: bool = False) -> str:
    """`text` without the spans where a person named hands nothing over (see above); with `reasons_only`, only
    without a main clause on their absence before "so", whose negation ("no colleague is available so ...") is
    not the instruction's."""
    kept, last = [], 0
    for match in _STAFF_AWAY.finditer(text):
        if reasons_only and not match["reason"]:
            continue
        absent = match["absent"] or match["gone"]
        away = bool(absent) != bool(_NEGATION_ANY.search(match.group()))  # "unless" turns it round
        if match["without"] or match["purpose"] or match["spare"] or away != bool(match["unless"]):
            kept.append(text[last : match.start()])
            last = match.end()
    return text if not kept else " ".join(kept) + " " + text[last:]


_SO_WORD = re.compile(rf"\b(?:{_SO})\b")


def _has_so(clause: str) -> bool:
    return _SO_WORD.search(clause) is not None


_BOUNDARY_CHARS = ".!?;\n"


def _sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (0 and after each run of . ! ? ; newline). str.find is
    memchr-fast, much faster than a regex scan over a long message."""
    ends: list[int] = []
    for char in _BOUNDARY_CHARS:
        index = text.find(char)
        while index >= 0:
            ends.append(index)
            index = text.find(char, index + 1)
    ends.sort()
    starts = [0]
    for index in ends:
        if index + 1 > starts[-1]:
            starts.append(index + 1)
        else:
            starts[-1] = index + 1
    return starts


def _triggered_sentences(text: str) -> list[tuple[str, str, tuple[tuple[Lexicon, bool], ...]]]:
    """(previous sentence, sentence, (lexicon, whether its strong patterns may match) pairs) for
    the sentences that hold trigger words."""
    hits = list(_AUTOMATON.iter(text))
    if not hits:
        return []
    starts = _sentence_starts(text)
    masks: dict[int, int] = {}
    for end, (length, bits) in hits:
        index = bisect_right(starts, end - length + 1) - 1
        masks[index] = masks.get(index, 0) | bits
    starts.append(len(text))
    found = []
    for index, mask in masks.items():
        sentence = text[starts[index] : starts[index + 1]].strip(" .!?;\n,")
        if not sentence:
            continue
        previous = text[starts[index - 1] : starts[index]].strip(" .!?;\n,") if index > 0 else ""
        lexicons = tuple((lexicon, bool(mask & strong_bit)) for lexicon, bit, strong_bit in _BITS if mask & bit)
        found.append((previous, sentence, lexicons))
    return found


def _may(lex: Lexicon, family: str, padded: str) -> bool:
    """A cheap necessary condition for a family's pattern: one of its gate substrings occurs."""
    return any(gate in padded for gate in lex.gates[family])


def _sentence_requests(lex: Lexicon, previous: str, sentence: str, strong: bool = True) -> bool:
    if strong and lex.strong.search(sentence):
        return True
    if lex.info.search(sentence):
        return False
    padded = f" {sentence} "
    context = f"{previous} . {sentence}" if previous else sentence

    def has_obj() -> bool:
        return lex.obj.search(context) is not None

    if lex.imperative.search(sentence) and (has_obj() or lex.own.search(sentence) or lex.cancellable.search(sentence)):
        return True
    if _may(lex, "request", padded) and lex.request.search(sentence):
        if lex.verb.search(sentence) and has_obj():
            return True
        if lex.cancel_verb.search(sentence) and (lex.own.search(sentence) or has_obj() or lex.cancellable.search(context)):
            return True
        if _may(lex, "give", padded) and lex.give.search(sentence):
            return True
    if _may(lex, "desire", padded) and lex.desire.search(sentence) and lex.grantable.search(sentence):
        return True
    if _may(lex, "get", padded) and lex.get.search(sentence) and lex.grantable.search(sentence):
        return True
    return False


def requests_decision_folded(text: str) -> bool:
    """Whether folded end-customer text asks the avatar to decide the customer's own case."""
    for previous, sentence, lexicons in _triggered_sentences(text):
        for lex, strong in lexicons:
            if _sentence_requests(lex, lex.prepare(previous), lex.prepare(sentence), strong):
                return True
    return False


def states_decision_folded(text: str) -> bool:
    """Whether folded avatar output announces a decision with legal or similar effect."""
    for _, sentence, lexicons in _triggered_sentences(text):
        for lex, _strong in lexicons:
            read = lex.prepare(sentence)
            if lex.states.search(read) and not (lex.deferral.search(_without_staff_away(read)) or lex.deciding.search(read)):
                return True
    return False


def requests_decision(text: str) -> bool:
    return requests_decision_folded(fold(text).text)


def states_decision(text: str) -> bool:
    return states_decision_folded(fold(text).text)


# A decision verb whose object is a pronoun for the decision object of the clause before ("If a customer
# asks for a refund, reject it", "Wenn ein Kunde eine Erstattung verlangt, lehne sie ab", "Si un client
# demande un remboursement, refuse-le"). Only for a verb that starts its clause, an imperative, maybe after
# one of these words: not one with a subject of its own ("..., who will approve it", "let them approve it").
_IMPERATIVE_LEAD = re.compile(
    r"^\s*(?:(?:then|just|simply|please|always|immediately|directly|also|you|can|may|should|must|dann|bitte|einfach|"
    r"sofort|direkt|immer|alors|puis|simplement|toujours|directement|entonces|simplemente|siempre|directamente|"
    r"allora|poi|semplicemente|sempre|direttamente|dan|gewoon|altijd|direct|meteen) )*$"
)


# Giving information about what can be granted is not granting it ("Give customers information about
# discounts", "Geef informatie over korting", "Gib Kunden Auskunft über Rabatte"): an information noun before
# its preposition, between "give" and what is given. Not one without it ("Give customers who ask for
# information a discount").
_ABOUT = (
    r"about|on|regarding|concerning|of|zu|zum|zur|uber|sur|concernant|de|des|du|sobre|acerca de|su|sul|sui|sugli|sulla|"
    r"sulle|riguardo|over|omtrent|betreffende|van"
)
_INFO_ABOUT = re.compile(
    r"\b(?:information|info|infos|details|explanations?|overview|advice|guidance|answers|facts|informationen|auskunft\w*|"
    r"hinweise|erklarung\w*|informations|renseignements|precisions|explications|informacion|detalles|explicaciones|"
    r"informazioni|dettagli|spiegazioni|chiarimenti|informatie|uitleg|inlichtingen|toelichting) "
    rf"(?:{_ABOUT})\b"
)


# The topic of the information runs up to its first grantable word, and on over "or"/"and" another one, maybe
# after the preposition said again ("information about discounts or refunds", "informazioni sui rimborsi e sugli
# sconti"); a word that adds what is given goes with it ("... plus a 10 percent discount").
_TOPIC = (
    r" (?:[\w']+ ){0,3}?(?:%s)\w*(?: (?:or|and|oder|und|ou|et|o|y|e|of|en) "
    rf"(?:(?:{_ABOUT}) (?:(?:the|die|den|le|la|les|el|los|las|il|lo|i|gli|l|de|het) )?)?(?:%s)\w*)?"
    r"(?: (?:plus|as well as|along with|together with|and also|sowie|zusammen mit|ainsi que|ademas de|junto con|oltre a|"
    r"insieme a|samen met|alsook)\b)?"
)
_INFO_TOPIC: dict[int, re.Pattern[str]] = {}


def _without_info(lex: Lexicon, clause: str) -> str:
    """The clause without information about what can be granted ("Give customers information about
    discounts" is "give customers"), so that "give" reaches only what it grants ("Give customers information
    about discounts plus a 10 percent discount", "Gib Kunden nach der Auskunft über Rabatte einen Rabatt")."""
    if not _INFO_ABOUT.search(clause):
        return clause
    pattern = _INFO_TOPIC.get(id(lex))
    if pattern is None:
        grantable = lex.grantable.pattern.removeprefix(r"\b")
        pattern = _INFO_TOPIC[id(lex)] = re.compile(_INFO_ABOUT.pattern + _TOPIC % (grantable, grantable))
    return re.sub(r"  +", " ", pattern.sub("", clause))


def _refers_back(lex: Lexicon, clause: str, verb: re.Match[str], antecedent: str) -> bool:
    """Whether the decision verb's object is a pronoun for the decision object of `antecedent`."""
    return bool(
        antecedent
        and _IMPERATIVE_LEAD.match(clause, 0, verb.start())
        and lex.pronoun.match(clause, verb.start())
        and _names_decision(lex, antecedent)
    )


# A decision noun that only qualifies another noun ("a refund form", "the refund process", "a discount code",
# "ein Erstattungsformular", "un formulaire de remboursement") is no antecedent for "it": that noun is.
_NOT_DECISION = (
    r"forms?|formular\w*|formulier\w*|formulaires?|formularios?|modul[oi]|process\w*|prozess\w*|verfahren|procedur\w*|"
    r"polic(?:y|ies)|richtlinie\w*|codes?|nummer\w*|numbers?|pages?|seite\w*|links?|status|fields?|feld\w*|templates?|"
    r"vorlage\w*|buttons?|e-?mails?|letters?|brief\w*|politi\w*|proces|procedure|procedimiento|codigos?|codice|"
    r"pagina|campo|modello|plantilla|lettre|lettera|carta|brief|veld|"
    # what tells about it: terms, estimates, timelines, references, notices ("the discount terms", "a refund estimate",
    # "Rückgabeinformationen", "Erstattungshinweise", "le délai de remboursement")
    r"terms|conditions?|estimates?|timelines?|time ?frames?|deadlines?|references?|schedules?|rules|details?|infos?|"
    r"informationen|information|hinweis\w*|bedingung\w*|modalites|delais?|conditions|condiciones|terminos|plazos?|"
    r"condizioni|termini|tempistic\w*|voorwaarden|informatie|termijn\w*"
)
_HEAD_AFTER = re.compile(rf"\w*?(?:{_NOT_DECISION})\b| (?:{_NOT_DECISION})\b")
_HEAD_IN = re.compile(rf"\w(?:{_NOT_DECISION})$")  # the match is a whole compound: "erstattungsformular"
_HEAD_BEFORE = re.compile(rf"\b(?:{_NOT_DECISION}) (?:de|d'|di|del|della|dei|des|du|van|voor|per) (?:(?:la|le|les|el|los|il|lo|i|l'|un|una|uno|een|het|de) )?$")
# Words about what can be granted, before it ("feedback about discounts", "tips on discounts", "a quick answer about
# refunds", "klachten over terugbetalingen"): the topic of what is given or refused, not the grant.
_TOPIC_NOUN = (
    r"feedback|tips?|hints?|answers?|advice|guidance|questions?|inquir\w*|enquir\w*|complaints?|explanations?|overview|"
    r"comments?|remarks?|facts|updates?|fragen?|beschwerde\w*|auskunft\w*|tipps?|ratschlag\w*|rat|antwort\w*|"
    r"erklarung\w*|conseils?|questions|plaintes?|reponses?|renseignements|explications|precisions|informations|"
    r"preguntas?|quejas?|respuestas?|consejos?|informacion|detalles|explicaciones|domande|domanda|reclami|risposte?|"
    r"consigli|suggerimenti|informazioni|dettagli|spiegazioni|chiarimenti|vragen?|vraag|klacht\w*|antwoord\w*|advies|"
    r"uitleg|inlichtingen|toelichting"
)
_QUALIFY_PREPOSITION = (
    r"about|on|regarding|concerning|for|of|de|d|di|del|della|dei|delle|degli|des|du|sur|concernant|sobre|acerca de|su|sui|"
    r"sul|sulle|sugli|sulla|riguardo|per|zu|zum|zur|uber|fur|van|voor|over|omtrent|betreffende|op"
)
_QUALIFY_ARTICLE = r"the|a|an|any|la|le|les|el|los|las|il|lo|i|gli|l'|un|una|uno|une|die|der|den|dem|das|een|het|de"
# a qualifying noun right before it too ("il codice sconto"), a topic noun only with its preposition
_QUALIFIED_BEFORE = re.compile(
    rf"\b(?:(?:{_NOT_DECISION})(?: (?:{_QUALIFY_PREPOSITION})(?: (?:{_QUALIFY_ARTICLE}))?)?"
    rf"|(?:{_TOPIC_NOUN}) (?:{_QUALIFY_PREPOSITION})(?: (?:{_QUALIFY_ARTICLE}))?) $"
)


def _qualified(text: str, found: re.Match[str], floor: int = 0) -> bool:
    """Whether a decision noun found in `text` only qualifies another noun or is the topic of one: a noun after it ("a
    refund form", "the discount terms"), the head of its compound ("Rabattcode", "Rückgabeinformationen"), or a noun
    before it, maybe with a preposition ("il modulo di rimborso", "le code de réduction", "il codice sconto", "feedback
    about discounts", "klachten over terugbetalingen")."""
    return bool(
        _HEAD_AFTER.match(text, found.end())
        or _HEAD_IN.search(found.group())
        or _QUALIFIED_BEFORE.search(text, max(floor, found.start() - 40), found.start())
    )


def _names_decision(lex: Lexicon, antecedent: str) -> bool:
    """Whether the clause before names a decision object that a pronoun may stand for."""
    for noun in (lex.obj, lex.cancellable, lex.grantable):
        for found in noun.finditer(antecedent):
            if (
                _HEAD_AFTER.match(antecedent, found.end())
                or _HEAD_IN.search(found.group())
                or _HEAD_BEFORE.search(antecedent, 0, found.start())
            ):
                continue
            return True
    return False


# How many matches of one finder a clause's reading looks at. Each match is read against the whole clause
# (what comes before it, what follows), so a clause with one match per word ("keur keur keur ...", "approve
# approve ...", a 2,000-character instruction) took time quadratic in its length: 0.3 s for 2,000 characters,
# seconds for 8,000. Past the first few matches a later one rarely changes the verdict: a negation or
# "instead of" before the first stays before the later ones, and the object that makes a verb an instruction
# is searched in the whole clause. Real instructions hold a handful of decision verbs per clause; the
# verdicts on every test string are the same with this bound as without it. A clause with more is refused
# (the guard fails closed): otherwise thirty skipped matches ("without approve without approve ...") would
# hide the instruction after them.
_MAX_VERBS = 30


def _last_start(pattern: re.Pattern[str], text: str) -> int:
    """Where the last match of `pattern` in `text` starts (-1 for none): `pattern.search(text, pos)` finds one
    exactly for `pos` up to there."""
    last, found = -1, pattern.search(text)
    while found:
        last = found.start()
        found = pattern.search(text, last + 1)
    return last


# Whose decision a prohibition is about: "Never reject refunds yourself" forbids deciding, it does not grant.
_OWN_DECISION = re.compile(
    r"\b(?:yourself|on your own|by yourself|independently|alone|selbst|selber|eigenstandig|allein|toi meme|vous meme|"
    r"(?:toi|vous) seule?s?|par toi meme|tu mism[oa]|usted mism[oa]|por (?:tu|su) cuenta|da sol[oa]|tu stess[oa]|autonomamente|"
    r"in autonomia|zelf|zelfstandig)\b"
)
_STAFF_WORD = re.compile(rf"\b(?:{_STAFF})\b")
# "never refuse to ...", "ne refuse jamais de ...": what follows is the verb refused
_INFINITIVE_NEXT = re.compile(r"(?: (?:ever|jamais|nunca|jamas|mai|nie|niemals|nooit))? (?:to|de|d|di|om|te|zu)\b")
_NEGARSE_A = re.compile(r"(?: (?:nunca|jamas))? a\b")  # "no te niegues nunca a dar ..."
# A question about the object is not the object: "Nunca rechaces una pregunta sobre reembolsos".
_TOPIC_BETWEEN = re.compile(
    r"\b(?:that|dass|che|about|regarding|concerning|on|questions?|inquir\w*|feedback|sur|concernant|sobre|acerca|preguntas?|"
    r"consultas?|su|sui|sul|sulle|sugli|domande|riguardo|zu|zum|zur|uber|bezuglich|fragen?|anfragen?|auskunft|"
    r"informationen|over|omtrent|betreffende|vragen?|vraag|informatie|uitleg)\b"
)
# A decision noun that qualifies another one is not what is refused ("Never refuse a refund question", "... a
# refund form"); nor one that asks, before what it asks about ("Non rifiutare mai una domanda sui rimborsi").
_NOT_THE_OBJECT_AFTER = re.compile(
    rf"(?:\w*?(?:{_NOT_DECISION})| (?:{_NOT_DECISION}|questions?|inquir\w*|enquir\w*|faqs?|fragen?|vragen?))\b"
)
_ASKING = re.compile(r"domand|demande|solicitud|request|richiest|pregunta|anfrage|aanvra|verzoek|complaint|beschwerde|klacht|plainte|queja")
_ABOUT_AFTER = re.compile(
    r" (?:about|regarding|concerning|on|sur|concernant|sobre|acerca|su|sui|sul|sulle|sugli|sulla|riguardo|zu|zur|zum|"
    r"uber|over|omtrent)\b"
)
_OR_BEFORE = re.compile(r"\b(?:or|nor|and|ou|ni|et|o|y|e|oder|und|of|en) $")  # "never reject or refund ..."
# German and Dutch put the infinitive that "refuse" governs last: "Weiger nooit om korting te geven", "Weiger nooit
# om een terugbetaling goed te keuren", "Verweigere nie eine Erstattung zu gewähren", "Lehne es nie ab, Rabatte zu
# geben" (the comma: see `_infinitive_after_comma`). Read with its verb first, as English says it ("weiger nooit om
# geven korting"), so that `_never_rejects` finds what the refused verb does. Only after a verb of refusing whose
# "om"/"zu" clause is its object ("weiger", "verweigere", "lehne es ... ab"): after "Wijs terugbetalingen nooit af
# om klanten te behouden" the clause is a purpose.
_REFUSING_TO = re.compile(r"(?:ver)?weiger\w*(?: (?:dich|euch|sie sich|sich))?$|lehn\w* es\b")  # "weigere dich": sich weigern
_INFINITIVE_LEAD = re.compile(r"(?P<never>(?: (?:nie|niemals|nooit|nimmer))?)(?: om)? ")
# The verb of an infinitive at the end: "korting te geven", "goed te keuren" ("goedkeuren"), "zu gewähren",
# "freizugeben" ("freigeben"); a word in -n, so "te laat" (too late) is none.
_INFINITIVE_VERB = re.compile(
    r"\b(?:(?:(?P<particle>goed|af|toe|terug|aan|uit|vrij|door) )?(?:te|zu) (?P<verb>\w+n)"
    r"|(?P<prefix>an|ab|frei|zu|zuruck|aus|ein)zu(?P<joined>\w+n))\b"
)
# What ends the refused infinitive's object: a clause of its own ("..., om klanten te behouden", "um ... zu", "als
# de klant ..."). Not a relative pronoun: German "die"/"der" are articles too, and a relative clause about the
# recipient leaves the infinitive the refused one ("Weiger nooit om klanten die erom vragen korting te geven").
_NOT_IN_THE_OBJECT = re.compile(r"\b(?:om|um|damit|zodat|omdat|als|wenn|falls|dass|dat|weil|indien|wanneer|ob)\b")


def _deciding_word(lex: Lexicon, word: str) -> bool:
    found = lex.give_verb.match(word) or lex.instruct_verb.match(word) or lex.process_verb.match(word)
    return found is not None and found.end() == len(word)


# Infinitives after a verb of refusing that refuse only talk or a promise (as `_TALK_EN` and `_PROMISE_EN` do in
# English): "Verweigere Rabatte zu versprechen", "Weigere dich Erstattungen zu besprechen" decide nothing, as
# "Refuse to promise refunds" and "Decline to discuss refunds" do not. Dutch "weiger" has them in its pattern.
_TALK_OR_PROMISE_INFINITIVE = re.compile(
    r"(?:be)?sprechen|reden|diskutieren|kommentieren|(?:be)?antworten|spekulieren|erklaren|erlautern|versprechen|"
    r"garantieren|zusagen|praten|spreken|bespreken|reageren|antwoorden|discussieren|speculeren|onthullen|beloven|"
    r"toezeggen|zeggen|garanderen"
)


def _refuses_talk_or_promise(clause: str, end: int) -> bool:
    """Whether the infinitive after a German or Dutch verb of refusing that ends at `end` (see `_infinitive_first`)
    only talks or promises."""
    lead = _INFINITIVE_LEAD.match(clause, end)
    if lead is None or lead["never"]:
        return False  # "Verweigere nie, Rabatte zu versprechen": see `_never_rejects`
    found = _INFINITIVE_VERB.search(clause, lead.end())
    if found is None:
        return False
    between = clause[lead.end() : found.start()]
    if len(between.split()) > 6 or _NOT_IN_THE_OBJECT.search(between):
        return False
    if found["verb"]:
        words = ([found["particle"] + found["verb"]] if found["particle"] else []) + [found["verb"]]
    else:
        words = [found["prefix"] + found["joined"]]
    return _TALK_OR_PROMISE_INFINITIVE.fullmatch(words[0]) is not None


def _infinitive_first(lex: Lexicon, clause: str, end: int) -> str | bool | None:
    """The clause with the infinitive after a German or Dutch verb of refusing (ending at `end`) put first, if it
    decides or gives ("weiger nooit om geven korting", "verweigere nie zu gewahren eine erstattung"); False for one
    that does neither ("Verweigere nie, Erstattungen zu besprechen"); None without one."""
    lead = _INFINITIVE_LEAD.match(clause, end)
    if lead is None:
        return None
    for found in _INFINITIVE_VERB.finditer(clause, lead.end()):
        between = clause[lead.end() : found.start()]
        if len(between.split()) > 6 or _NOT_IN_THE_OBJECT.search(between):
            return None
        if found["verb"]:
            words = ([found["particle"] + found["verb"]] if found["particle"] else []) + [found["verb"]]
        else:
            words = [found["prefix"] + found["joined"], found["joined"]]
        word = next((word for word in words if _deciding_word(lex, word)), None)
        if word is None:
            continue
        particle = found["particle"] if word == found["verb"] else None  # "bieden ... aan"
        reordered = " ".join(part for part in ("zu" if lex is DE else "om", word, between.strip(), particle) if part)
        return f"{clause[:end]}{lead['never']} {reordered}{clause[found.end():]}"
    return False if _INFINITIVE_VERB.search(clause, lead.end()) else None


# A verb of refusing with its "never", then a comma and the infinitive it governs ("Verweigere nie, Rabatte zu geben",
# "Lehne es niemals ab, Erstattungen freizugeben"): one clause, read as `_infinitive_first` reads it.
_REFUSED_AT_THE_END = re.compile(
    r"\b(?:(?:ver)?weiger\w*|lehn\w* es) (?:[\w']+ ){0,2}?(?:nie|niemals|nooit|nimmer)(?: ab)?\s*$"
)


def _infinitive_after_comma(lex: Lexicon, prepared: str, joins: list[str], pieces: list[str], index: int) -> str | None:
    """The clause read together with the infinitive after its comma that it refuses (see `_REFUSED_AT_THE_END`), if
    that infinitive decides or gives."""
    if lex.negation_follows is None or index >= len(joins) or joins[index].strip() != ",":
        return None
    refusal = _REFUSED_AT_THE_END.search(prepared)
    if refusal is None:
        return None
    head = prepared[: refusal.end()].rstrip()
    joined = f"{head} {lex.prepare(pieces[index + 1]).strip()}"
    verb = lex.instruct_verb.search(joined, refusal.start())
    if verb is None or not isinstance(_infinitive_first(lex, joined, verb.end()), str):
        return None
    return joined


# A German or Dutch imperative of refusing that makes up its clause, before a comma and the infinitive it governs
# ("Weigere dich, Rabatte zu geben", "Weiger, korting te geven"): what "never" turns round in `_REFUSED_AT_THE_END`.
# Only an imperative, first in its clause: "Wenn Kunden sich weigern, Gebühren zu zahlen, ..." tells of the customer.
_REFUSING_ALONE = re.compile(
    r"^\s*(?:(?:bitte|dann|immer|einfach|stets|also|altijd|gewoon|dan|daarom) )*"
    r"(?P<verb>weigere dich|weigert euch|weigern sie sich|verweigere|verweigert|verweigern sie|lehne es ab|lehnt es ab|"
    r"lehnen sie es ab|weiger|weigert)"
    r"(?: (?:immer|stets|bitte|hoflich|freundlich|altijd|beleefd|vriendelijk))*\s*$"
)


def _refused_after_comma(
    lex: Lexicon, prepared: str, joins: list[str], pieces: list[str], index: int, antecedent: str
) -> tuple[bool, str | None]:
    """A refusal alone in its clause, read with the infinitive after its comma that it governs: "Weigere dich, Rabatte
    zu geben" refuses discounts, as "Weigere dich Rabatte zu geben" and "Refuse to give discounts" do. (Whether the
    next piece was read with it, the clause if it instructs.) Refusing to talk or promise decides nothing ("Weigere
    dich, Rabatte zu versprechen"), nor refusing information ("Weigere dich, Kunden Auskunft über Rabatte zu geben")
    or help ("Weiger, klanten te helpen")."""
    if lex.negation_follows is None or index + 1 >= len(pieces) or joins[index].strip() != ",":
        return False, None
    refusal = _REFUSING_ALONE.match(prepared)
    if refusal is None:
        return False, None
    head = prepared[: refusal.end("verb")].strip()
    joined = f"{head} {lex.prepare(pieces[index + 1]).strip()}"
    end = len(head)
    if _refuses_talk_or_promise(joined, end):
        return True, None
    reordered = _infinitive_first(lex, joined, end)
    if not isinstance(reordered, str):
        return reordered is False, None  # False: an infinitive that neither decides nor gives ("..., Kunden zu helfen")
    word = _REORDERED_WORD.match(reordered, end)
    if word is None:
        return False, None
    if lex.deferral.search(_without_staff_away(joined)):
        return True, None
    if lex.give_verb.fullmatch(word["word"]):
        return True, joined.strip() if _gives(lex, reordered[word.start("word") :]) else None
    return True, _clause_instructs(lex, joined, antecedent)


_REORDERED_WORD = re.compile(r" (?:zu|om) (?P<word>\S+)")


def _refusal_before(lex: Lexicon, clause: str, given: re.Match[str]) -> re.Match[str] | None:
    """The verb of refusing a few words before what is given, whose infinitive the giving is: "Never refuse to
    promise a discount", "Weiger nooit om klanten korting te beloven" (where "refuse to promise" reads as a negation,
    so that "Refuse to promise refunds" decides nothing)."""
    words = list(_WORD_START.finditer(clause, 0, given.start()))
    for word in reversed(words[-7:]):
        if lex.reject.match(clause, word.start()):
            return _WHOLE_WORD.match(clause, word.start())
    return None


_WORD_START = re.compile(r"(?<!\S)\S")
_WHOLE_WORD = re.compile(r"\S+")
_NEVER_BEFORE: dict[int, re.Pattern[str]] = {}
_NEVER_AFTER: dict[int, re.Pattern[str]] = {}


def _never_rejects(lex: Lexicon, clause: str, match: re.Match[str]) -> bool:
    """Whether a negated decision verb is a rejection after "never" ("Never refuse a refund", "Ne refuse jamais
    un remboursement", "Nunca rechaces un reembolso", "Lehne Erstattungen nie ab", "Wijs terugbetalingen nooit
    af"): an instruction to grant every one. Not when the clause names whose decision it is ("Never reject refunds
    yourself") or a person ("... without asking a colleague"), when another decision verb shares the negation
    ("Never approve or reject refunds"), when "to" follows ("Never refuse to help") but no decision verb or a
    giving verb with what it grants ("Never refuse to approve a refund", "Never refuse to give a discount"), or
    without a decision object right after the verb (in German and Dutch, which put the object between the verb
    and its negation, from the verb's first word; and right before the negation of an infinitive at the end:
    "Erstattungen nie ablehnen")."""
    start, end = match.start(), match.end()
    if not lex.reject.match(clause, start):
        return False
    if lex.negation_follows is not None and _REFUSING_TO.match(clause[start:end]):
        reordered = _infinitive_first(lex, clause, end)
        if reordered is False:
            return False  # "Weiger nooit om terugbetalingen te bespreken": talking, no decision
        clause = reordered or clause
    # "Never refuse to approve a refund": the verb refused, a decision verb that is no rejection (`inner`), or one
    # that gives ("Never refuse to give a discount", `given`)
    inner = given = processing = None
    infinitive = _INFINITIVE_NEXT.match(clause, end) or (lex is ES and _NEGARSE_A.match(clause, end))
    if infinitive:
        given = lex.give_verb.match(clause, infinitive.end() + 1)  # before "grant" as a decision verb
        inner = None if given else lex.instruct_verb.match(clause, infinitive.end() + 1)
        if given is None and inner is None:  # "Never refuse to process cancellations"
            inner = processing = lex.process_verb.match(clause, infinitive.end() + 1)
        if inner is None and given is None or inner and lex.reject.match(clause, inner.start()):
            return False
    before = _NEVER_BEFORE.get(id(lex))
    if before is None:
        before = _NEVER_BEFORE[id(lex)] = re.compile(rf"(?:{lex.never.pattern})(?: [\w']+){{0,2}} $")
        _NEVER_AFTER[id(lex)] = re.compile(rf" (?:[\w']+ )?(?:{lex.never.pattern})")
    if not (
        before.search(clause, 0, start)
        or lex.never.search(clause, start, end)
        or _NEVER_AFTER[id(lex)].match(clause, end)
        or _never_follows(lex, clause, start)
    ):
        return False
    if _OWN_DECISION.search(clause) or _STAFF_WORD.search(clause):
        return False
    # Another decision verb shares the negation; not the object read as a verb ("refund", "terugbetaling").
    if any(
        not lex.reject.match(clause, verb.start())
        and not ((inner or given) and verb.start() == (inner or given).start())
        and not (
            (verb.start() > start or lex.negation_follows is not None)  # before it: "Terugbetalingen nooit afwijzen"
            and lex.obj.match(clause, verb.start())
            and not _OR_BEFORE.search(clause, 0, verb.start())
        )
        for verb in lex.instruct_verb.finditer(clause)
    ):
        return False
    if given:
        return _gives(lex, clause[given.start() :])
    if lex.instruct_give.search(_without_info(lex, clause)) or lex.instruct_self.search(clause):
        return False
    if inner:
        end = inner.end()
        if not processing and lex.person.search(clause, end):  # "Never refuse to refund a customer"
            return True  # not "Never refuse to process customer feedback"
    elif lex.negation_follows is not None:  # "lehne erstattungen nie ab" is one match: from its first word
        space = clause.find(" ", start, end)
        end = space if space > 0 else end
        if _object_before(lex, clause, start):
            return True
    for noun in (lex.obj, lex.cancellable, lex.instruct_obj):
        for found in noun.finditer(clause, end):
            if len(clause[end : found.start()].split()) > 4 or _TOPIC_BETWEEN.search(clause, end, found.start()):
                break
            if _is_the_object(clause, found, end if processing else 0):
                return True
    return False


# A compound that asks ("Erstattungsfragen", "terugbetalingsvragen"); not a request ("Erstattungsanfragen",
# "leningaanvragen"), which is decided.
_QUESTION_IN = re.compile(r"\w(?<!an)(?:fragen?|vragen?|vraag)$")


def _is_the_object(clause: str, found: re.Match[str], floor: int = 0) -> bool:
    """Whether a decision noun is itself what is refused: not one that qualifies another noun ("a refund question",
    "Erstattungsfragen") or asks about something ("Non rifiutare mai una domanda sui rimborsi"). Nothing before
    `floor` qualifies it: "process" is the verb in "Never refuse to process cancellations", not "the refund process"."""
    return not (
        _NOT_THE_OBJECT_AFTER.match(clause, found.end())
        or _qualified(clause, found, floor)
        or _QUESTION_IN.search(found.group())
        or (_ASKING.search(found.group()) and _ABOUT_AFTER.match(clause, found.end()))
    )


def _object_before(lex: Lexicon, clause: str, start: int) -> bool:
    """Whether a decision noun stands right before "never" and the rejecting infinitive at the end of a German or
    Dutch clause ("Erstattungen nie ablehnen", "Terugbetalingen nooit afwijzen"), not as a topic ("Fragen zu
    Erstattungen nie ablehnen")."""
    for noun in (lex.obj, lex.cancellable, lex.instruct_obj):
        for found in noun.finditer(clause, 0, start):
            between = clause[found.end() : start]
            if (
                len(between.split()) <= 2
                and lex.never.search(between)
                and not _TOPIC_BETWEEN.search(clause, max(0, found.start() - 12), found.start())
                and _is_the_object(clause, found)
            ):
                return True
    return False


_NEVER_LAST: dict[int, re.Pattern[str]] = {}


def _never_follows(lex: Lexicon, clause: str, start: int) -> bool:
    """Whether the negation that follows the verb at `start` (German, Dutch) is "never", after more than one word
    ("Wijs terugbetalingen en kortingen nooit af")."""
    if lex.negation_follows is None:
        return False
    negated = lex.negation_follows.match(clause, start)
    if negated is None:
        return False
    last = _NEVER_LAST.get(id(lex))
    if last is None:
        last = _NEVER_LAST[id(lex)] = re.compile(rf"(?:{lex.never.pattern})$")
    return last.search(negated.group()) is not None


def _gives(lex: Lexicon, phrase: str) -> bool:
    """Whether `phrase`, which starts with a giving verb, gives what can be granted ("give customers a discount"), not
    information about it ("give information about discounts") or something it qualifies ("give a refund form")."""
    found = lex.instruct_give.match(_without_info(lex, phrase))
    return (
        found is not None
        and lex.grantable.search(found.group()) is not None
        and _grants(lex, found)
        and not _promised_as_information(lex, found.string, found)
    )


def _grants(lex: Lexicon, given: re.Match[str]) -> bool:
    """Whether a match of `instruct_give` ends on what it grants, not on a noun that only qualifies or is the topic
    of another ("give a refund form", "dare il codice sconto", "give feedback about discounts"; see `_qualified`)."""
    nouns = list(lex.grantable.finditer(given.string, given.start(), given.end()))
    if not nouns:
        return True  # "give customers free shipping"
    # the noun as far as it goes ("rabattcode", not the lazy match's "rabatt")
    noun = lex.grantable.match(given.string, nouns[-1].start())
    return not (_NOT_THE_OBJECT_AFTER.match(given.string, noun.end()) or _qualified(given.string, noun))


# Words between a decision verb and a return or fee that make it no object of the verb: a topic ("Set a tone
# for questions on returns", "Adjust the explanation of returns"), a clause of its own ("Accept that fees
# apply", "Reduce jargon when explaining fees"), "out" ("Set out the fees"). "of" after what a return costs
# is the object still ("Waive the cost of returns").
_NOT_OBJECT_BETWEEN = re.compile(
    r"\b(?:about|regarding|concerning|on|for|(?<!\bcost )(?<!\bcosts )(?<!\bprice )(?<!\bcharge )(?<!\bamount )of|when|"
    r"whenever|while|if|how|that|what|why|which|where|out|explain\w*|mention\w*|discuss\w*|describ\w*|questions?|"
    r"inquir\w*|enquir\w*|sur|concernant|quand|lorsque|si|comment|que|sobre|acerca|cuando|como|que|preguntas?|su|sui|"
    r"sul|sulle|sugli|sulla|riguardo|quando|se|come|che|domande)\b"
)


# Verbs of degree ("adjust", "lower", "reduce", "set", "determine") decide nothing about a person they are
# done for or who act in a clause of their own: "Adjust the wording to the customer", "Set a relaxed tone for
# them", "Adjust your tone when customers ask about the return process".
_DEGREE_VERB = re.compile(r"(?:adjust|lower|reduce|set|determine)\b")
_AUDIENCE_BEFORE = re.compile(r"\b(?:to|for|with|towards?|by|of) (?:(?:the|a|an|our|your|those|these|all|each|every) )?$")
_OWN_CLAUSE = re.compile(r"\b(?:when|whenever|while|if|so|how|as|because|since|until|once|where|whether)\b")


def _person_decided(lex: Lexicon, clause: str, verb: re.Match[str]) -> bool:
    """Whether a person after the decision verb is whom it decides on ("Reject applicants", "Deny them");
    not the audience of a verb of degree (see `_DEGREE_VERB`)."""
    if not (lex is EN and _DEGREE_VERB.match(clause, verb.start())):
        return lex.person.search(clause, verb.end()) is not None
    own_clause = _OWN_CLAUSE.search(clause, verb.end())  # "... when customers ask": none after it
    stop = own_clause.start() if own_clause else len(clause)
    for found in lex.person.finditer(clause, verb.end(), stop):
        # the words just before it: a preposition and an article at most
        if not _AUDIENCE_BEFORE.search(clause, max(verb.end(), found.start() - 24), found.start()):
            return True
    return False


def _decides_instruct_obj(lex: Lexicon, clause: str, verb: re.Match[str], rest: str) -> bool:
    """Whether a return or fee (`Lexicon.instruct_obj`) is what the decision verb decides: within four words
    after it, with none of `_NOT_OBJECT_BETWEEN` between ("Waive the late fee", "Decline to accept returns";
    not "Set out the fees", "Reduce jargon when explaining fees"). German and Dutch put the object before a
    verb at the end or its particle ("Lehne Rücksendungen ab", "Retouren zelf accepteren"): anywhere in
    the clause there."""
    if lex is DE or lex is NL:
        return lex.instruct_obj.search(rest) is not None
    end = verb.end()
    for found in lex.instruct_obj.finditer(clause, end):
        between = clause[end : found.start()]
        if len(between.split()) > 4:
            return False
        if not _NOT_OBJECT_BETWEEN.search(between):
            return True
    return False


# Promising or guaranteeing that something happens to what can be granted tells how it goes, as "Tell customers
# that refunds arrive within 14 days" does: "Promise that refunds arrive within 14 days", "Promets que les
# remboursements arrivent sous 14 jours", "Beloof dat terugbetalingen binnen 14 dagen aankomen". It grants only
# where the content clause says someone gets it or it is decided ("Promise that refunds will be approved",
# "Promise customers that they get a refund"); "Promise customers a refund" has no content clause.
_PROMISE_VERB = re.compile(
    r"(?:promise|guarantee|assure|versprich|versprechen|garantiere|garantieren|promets|promettez|promettre|garantis|"
    r"garantissez|garantir|promete|prometa|prometer|garantiza|garantice|garantizar|prometti|promettere|garantisci|"
    r"garantire|beloof|beloven|garandeer|garanderen)\b"
)
_CONTENT_THAT = re.compile(r"\b(?:that|dass|que|che|dat) ")
_CONTENT_GRANTS = re.compile(
    r"\b(?:gets?|getting|got|receives?|receiving|obtain\w*|given|granted|approved|accepted|entitled|eligible|qualif\w*|"
    r"honou?red|awarded|issued|bekomm\w*|erhalt\w*|kriegt?|kriegen|genehmigt|bewilligt|gewahrt|akzeptiert|angenommen|"
    r"anspruch|zugesagt|berechtigt|recev\w*|recoi\w*|recu\w*|obten\w*|obtien\w*|obtiendr\w*|beneficie\w*|approuve\w*|"
    r"accorde\w*|accepte\w*|droit|octroye\w*|recib\w*|obtendr\w*|aprobad\w*|concedid\w*|otorgad\w*|aceptad\w*|"
    r"derecho|elegible\w*|ricev\w*|ottien\w*|otterr\w*|ottenere|approvat\w*|concess\w*|accettat\w*|accordat\w*|"
    r"diritto|krijg\w*|ontvang\w*|goedgekeurd|toegekend|geaccepteerd|gehonoreerd|recht)\b"
)


def _promised_as_information(lex: Lexicon, clause: str, given: re.Match[str]) -> bool:
    """Whether a match of `instruct_give` promises only how what can be granted goes: a promising verb, then a
    content clause ("that", "que", "che", "dat") whose subject is what can be granted (at most two words before it),
    and nothing in that clause that grants or decides it (see above)."""
    if not _PROMISE_VERB.match(clause, given.start()):
        return False
    that = _CONTENT_THAT.search(clause, given.start(), given.end())
    if that is None:
        return False
    noun = lex.grantable.search(clause, that.end(), given.end())
    if noun is None or len(clause[that.end() : noun.start()].split()) > 2:
        return False  # "Prometti ai clienti che lo chiedono uno sconto": "che" is a relative pronoun
    return _CONTENT_GRANTS.search(clause, that.end()) is None


_REFUSED_DECIDES = object()  # what `_refused_infinitive` says besides a giving phrase
_REFUSED_OTHER = object()


def _refused_infinitive(lex: Lexicon, clause: str, verb: re.Match[str]) -> str | object:
    """What a verb of refusing (not negated) refuses when an infinitive follows it: the giving phrase for a giving verb
    ("refuse to give customers information about discounts", German and Dutch read with the infinitive first:
    "weigere dich zu geben kunden auskunft uber rabatte"), to be read by `_gives`; `_REFUSED_OTHER` for another verb
    that decides nothing ("Refuse to insult customers", "Weiger om klanten te helpen"), whose person is that verb's
    object, not one decided on; `_REFUSED_DECIDES` for a decision verb or no infinitive ("Refuse to approve refunds",
    "Refuse customers"), read as before."""
    if lex.negation_follows is not None:
        if not _REFUSING_TO.match(verb.group()):
            return _REFUSED_DECIDES
        reordered = _infinitive_first(lex, clause, verb.end())
        if reordered is None:
            return _REFUSED_DECIDES
        if reordered is False:
            return _REFUSED_OTHER
        word = _REORDERED_WORD.match(reordered, verb.end() + len(_INFINITIVE_LEAD.match(clause, verb.end())["never"]))
        if word is not None and lex.give_verb.fullmatch(word["word"]):
            return reordered[word.start("word") :]
        return _REFUSED_DECIDES
    infinitive = _INFINITIVE_NEXT.match(clause, verb.end())
    if infinitive is None and lex is ES:
        infinitive = _NEGARSE_A.match(clause, verb.end())  # "niégate a dar ..."
    if infinitive is None or infinitive.end() >= len(clause):
        return _REFUSED_DECIDES
    at = infinitive.end() + 1
    if lex.give_verb.match(clause, at):
        return clause[at:]
    if lex.instruct_verb.match(clause, at) or lex.process_verb.match(clause, at) or lex.instruct_self.match(clause, at):
        return _REFUSED_DECIDES
    return _REFUSED_OTHER


def _clause_instructs(lex: Lexicon, clause: str, antecedent: str = "", never_grants: bool = False) -> str | None:
    """The clause, if it instructs a decision; with `never_grants`, a rejection after "never" counts too (see
    `_never_rejects`)."""
    if lex.deferral.search(_without_staff_away(clause)):
        return None
    whole = clause = _without_staff_away(clause, reasons_only=True) if _has_so(clause) else clause
    for finder in (lex.instruct_verb, lex.instruct_give, lex.instruct_self):
        clause = _without_info(lex, whole) if finder is lex.instruct_give else whole
        # negation_follows ends on a word that `negation` matches too: none starting at or after the verb, no match.
        last_negation = _last_start(lex.negation, clause) if lex.negation_follows else -1
        for count, match in enumerate(finder.finditer(clause)):
            if count >= _MAX_VERBS:
                return whole.strip()[:120]  # see _MAX_VERBS: refused, not read on
            before = clause[: match.start()]
            if lex.info.search(before) or _REPLACED.search(before):
                continue
            # From the start of the match, not its end: "lehne Anträge nie ab" is one match, and a noun
            # read as the verb ("terugbetaling of een korting nooit ... goed") is part of what follows.
            if lex.negation.search(before) or (
                last_negation >= match.start() and lex.negation_follows.match(clause, match.start())
            ):
                if never_grants and finder is lex.instruct_verb and _never_rejects(lex, clause, match):
                    return whole.strip()
                if never_grants and finder is lex.instruct_give:  # "Never refuse to promise a discount"
                    refusal = _refusal_before(lex, clause, match)
                    if refusal and _never_rejects(lex, clause, refusal):
                        return whole.strip()
                continue
            if finder is lex.instruct_give and not _grants(lex, match):
                continue  # "Give customers the refund form", "Donne le code de réduction"
            if finder is lex.instruct_give and _promised_as_information(lex, clause, match):
                continue  # "Promise that refunds arrive within 14 days"
            if (
                finder is lex.instruct_verb
                and lex.negation_follows is not None
                and _REFUSING_TO.match(match.group())
                and _refuses_talk_or_promise(clause, match.end())
            ):
                continue  # "Verweigere Rabatte zu versprechen": declining to promise
            refused = _REFUSED_DECIDES
            if finder is lex.instruct_verb and lex.reject.match(clause, match.start()):
                refused = _refused_infinitive(lex, clause, match)
                if refused is _REFUSED_OTHER and lex.negation_follows is not None:
                    continue  # "Weiger om klanten te helpen", as "Weiger, klanten te helpen"
                if isinstance(refused, str):
                    if _gives(lex, refused):
                        return whole.strip()
                    continue  # "Refuse to give customers information about discounts"
            verb_end = clause.find(" ", match.start())
            rest = clause[: match.start()] + " " + (clause[verb_end:] if verb_end > 0 else "")
            if finder is lex.instruct_verb and not (
                lex.obj.search(rest)
                or lex.cancellable.search(rest)
                or _decides_instruct_obj(lex, clause, match, rest)
                or (refused is _REFUSED_DECIDES and _person_decided(lex, clause, match))
                or _refers_back(lex, clause, match, antecedent)
            ):
                continue
            return whole.strip()
    return None


def instructs_decision(text: str) -> str | None:
    """The clause of a style instruction that tells the avatar to decide, if any."""
    folded = fold(text).text
    if states_decision_folded(folded):
        return folded.strip()
    if not _has_trigger(folded) and not _INSTRUCT_TRIGGER.search(folded):
        return None
    folded = _ENCOURAGED.sub("", folded)
    for lex in LEXICONS:
        clause_end = _CLAUSE_END_NL if lex is NL else _CLAUSE_END
        pieces = clause_end.split(folded)
        joins = clause_end.findall(folded)
        handing_over: dict[int, bool] = {}  # by sentence, see _sentence_hands_over
        refused_with = -1  # a piece read with the refusal before its comma (see _refused_after_comma)
        for index, clause in enumerate(pieces):
            if index == refused_with:
                continue
            antecedent = lex.prepare(pieces[index - 1]) if index else ""
            prepared = lex.prepare(clause)
            found = _clause_instructs(lex, prepared, antecedent)
            if (
                found is None
                and lex.never.search(prepared)
                and lex.reject.search(prepared)
                and not _sentence_hands_over(lex, joins, pieces, index, handing_over)
            ):
                found = _clause_instructs(lex, prepared, antecedent, never_grants=True)
            if found is None and lex.negation_follows is not None:
                joined = _infinitive_after_comma(lex, prepared, joins, pieces, index)
                if joined and not _sentence_hands_over(lex, joins, pieces, index, handing_over):
                    found = _clause_instructs(lex, joined, antecedent, never_grants=True)
            if found is None and lex.negation_follows is not None:
                together, found = _refused_after_comma(lex, prepared, joins, pieces, index, antecedent)
                if together:
                    refused_with = index + 1
            if found is None:
                found = _given_with_the_clause_before(lex, joins, pieces, index)
            if found is None:
                found = _promised_before_comma(lex, prepared, joins, pieces, index, antecedent)
            if found is None and lex is IT and lex.give_verb.search(prepared):
                found = _given_after_e(lex, prepared)
            if found and (
                _negated_list(lex, clause, joins, pieces, index) or _collected_for_staff(lex, clause, joins, pieces, index)
            ):
                continue
            # A second object before a negation that follows the verb: one prohibition ("Genehmige Erstattungen und
            # Rabatte nie selbst"), but a rejection after "never" grants both ("Lehne Erstattungen und Rabatte nie ab").
            together = _with_second_object(lex, clause, joins, pieces, index)
            if together is not None and (found is None or _clause_instructs(lex, together) is None):
                found = (
                    _clause_instructs(lex, together, antecedent, never_grants=True)
                    if lex.never.search(together)
                    and lex.reject.search(together)
                    and not _sentence_hands_over(lex, joins, pieces, index, handing_over)
                    else None
                )
            if found:
                return found
    return None


# A negation that encourages: "Don't hesitate to approve refunds" tells the avatar to approve them, as "Feel free
# to" does; the negation is the hesitation's, not the verb's.
_ENCOURAGED = re.compile(
    r"\b(?:don't|dont|do not|never) (?:hesitate|be afraid|be shy|fail|forget|wait)(?= to\b)"
    r"|\b(?:zogere|zogert|zogern sie) (?:nicht|nie)\b|\bscheu(?:e|t)? (?:dich|euch|sich) nicht\b"
    r"|\bhab(?:e|t)? keine (?:scheu|angst|bedenken)\b"
    r"|\b(?:n'|ne )(?:hesite|hesitez) (?:pas|jamais)\b|\bn'(?:aie|ayez) pas peur\b"
    r"|\bno (?:dudes|dude|duden|vaciles|vacile|tengas miedo|tenga miedo)\b"
    r"|\bnon (?:esitare|esiti|esitate|avere paura|aver paura|abbia paura)\b"
    r"|\b(?:aarzel|aarzelt|twijfel|twijfelt) (?:niet|nooit)\b|\bwees niet bang\b"
)
_SENTENCE_END = frozenset(".!?\n")


# A clause of its own that asks staff first ("Lehne Erstattungen nie ab, ohne einen Kollegen zu fragen", "Never reject
# a refund, without asking a colleague"): the rejection is left to them, as without the comma.
_WITHOUT_STAFF = re.compile(rf"\s*(?:{_WITHOUT}) (?:[\w']+ ){{0,6}}?(?:{_STAFF})\b")


def _sentence_hands_over(lex: Lexicon, joins: list[str], pieces: list[str], index: int, known: dict[int, bool]) -> bool:
    """Whether a clause of the sentence that holds piece `index` hands over ("Never reject refunds, forward them
    to a colleague") or asks staff first (see `_WITHOUT_STAFF`): then "never reject" forbids deciding rather than
    grants. `known` holds the answer for
    each piece of a sentence already read, so a long sentence is read once."""
    if index in known:
        return known[index]
    start = index
    while start > 0 and not _SENTENCE_END.intersection(joins[start - 1]):
        start -= 1
    end = index
    while end < len(joins) and not _SENTENCE_END.intersection(joins[end]):
        end += 1
    over = any(
        lex.deferral.search(_without_staff_away(prepared)) or _WITHOUT_STAFF.match(prepared)
        for prepared in map(lex.prepare, pieces[start : end + 1])
    )
    known.update(dict.fromkeys(range(start, end + 1), over))
    return over


# What a clause that starts with what can be given may start with: articles, amounts (folded "10 %" is "10"), "also".
_GIVEN_LEAD = re.compile(
    r"(?:(?:also|auch|aussi|tambien|anche|ook|"
    r"a|an|the|some|any|free|extra|small|special|partial|full|one|ein|eine|einen|einem|etwas|kleinen?|un|une|des|du|"
    r"de|la|le|les|una|uno|unos|unas|el|los|las|il|lo|gli|i|een|het|wat|\d[\d.,]*|eur|euros?|percent|per cent|prozent|"
    r"pour cent|por ciento|per cento|procent) )*"
)
_RELATIVE = re.compile(r"(?:die|der|das|welche\w*|who|that|which|qui|que|quienes|che|cui|dat|wie) ")
# What may follow what is given in its clause: how much, for whom, by whom, when ("and a discount of 10 %", "and
# a refund yourself", "and a discount if they ask"); not a verb of a clause of its own ("and refunds take a week").
_GIVEN_TAIL = re.compile(
    r"(?:of|on|for|up|worth|off|yourself|too|as|if|when|von|auf|bis|fur|uber|selbst|wenn|falls|de|du|sur|pour|si|toi|"
    r"del|para|por|tu|di|su|per|se|da|van|op|voor|tot|als|zelf|ook|\d[\d.,]*)\b"
)


def _given_with_the_clause_before(lex: Lexicon, joins: list[str], pieces: list[str], index: int) -> str | None:
    """A clause that is only what is given, after "and" or a comma, reads with the giving verb before it: "Give
    customers information and a 10 % discount", "Geef klanten informatie en korting", "Gib Kunden, die nach
    Informationen fragen, einen Rabatt" (back over one relative clause). Not one negated before the verb, and
    only words of its own phrase may follow what is given ("Give customers a coffee and refunds take a week"), after
    a comma at most one ("Give customers the form, refunds for damage take a week")."""
    if index == 0:
        return None
    clause = lex.prepare(pieces[index]).strip()
    noun = lex.grantable.match(clause, _GIVEN_LEAD.match(clause).end())
    if noun is None or _qualified(clause, noun) or _NOT_THE_OBJECT_AFTER.match(clause, noun.end()):
        return None  # "... and a discount code", "... und einen Rabattcode"
    tail = clause[noun.end() :].strip()
    if tail and not _GIVEN_TAIL.match(tail):
        return None
    trailing = len(tail.split())
    at = index - 1
    while at >= 0:
        join = joins[at].strip()
        if _SENTENCE_END.intersection(join) or not (join in _AND or join == ","):
            return None
        if join == "," and trailing > 1:
            return None
        previous = lex.prepare(pieces[at]).strip()
        verbs = list(lex.give_verb.finditer(previous))
        if verbs:
            verb = verbs[-1]
            if lex.negation.search(previous, 0, verb.start()):
                return None
            if _INFO_ABOUT.search(previous) and clause not in _without_info(lex, f"{previous} {join} {clause}"):
                return None  # the topic of the information: "Give customers information about refunds and discounts"
            return _clause_instructs(lex, f"{previous[: verb.end()]} {clause}")
        if at != index - 1 or join != "," or not _RELATIVE.match(previous):
            return None
        at -= 1  # back over a relative clause about the recipient
    return None


# A promise that ends its clause before the comma of its content clause ("Versprich Kunden, dass sie eine Erstattung
# bekommen"; the comma is German spelling): read together, as without the comma.
_PROMISE_AT_THE_END = re.compile(rf"\b{_PROMISE_VERB.pattern}(?: [\w']+){{0,3}}\s*$")


def _promised_before_comma(
    lex: Lexicon, prepared: str, joins: list[str], pieces: list[str], index: int, antecedent: str
) -> str | None:
    """The promise read with its content clause after the comma, if together they grant ("Versprich Kunden, dass sie
    eine Erstattung bekommen", as "Promise customers that they will get a refund"); not one on how it goes
    ("Versprich Kunden, dass Erstattungen innerhalb von 14 Tagen ankommen"; see `_promised_as_information`)."""
    if index + 1 >= len(pieces) or joins[index].strip() != ",":
        return None
    if not _PROMISE_AT_THE_END.search(prepared):
        return None
    following = lex.prepare(pieces[index + 1]).strip()
    if not _CONTENT_THAT.match(following):
        return None
    return _clause_instructs(lex, f"{prepared.strip()} {following}", antecedent)


_AND_IT = re.compile(r" (?:e|ed) ")


def _given_after_e(lex: Lexicon, clause: str) -> str | None:
    """What is given after Italian "e" (and), read as after "and" elsewhere ("Dai ai clienti informazioni e uno
    sconto"): "e" ends no clause, since folded "è" (is) is "e" too ("il rimborso e approvato")."""
    parts = _AND_IT.split(clause)
    joins = ["e"] * (len(parts) - 1)
    for index in range(1, len(parts)):
        found = _given_with_the_clause_before(lex, joins, parts, index)
        if found:
            return found
    return None


_TAKE_DE = re.compile(r"\bn(?:imm|ehm)(?:e|en|t|st)?\b")
_HANDED_ON_DE = re.compile(
    r"(?:(?:dann|danach|anschliessend|sofort|direkt|umgehend|bitte) )*(?:leite|leitet|leiten|gib|gebt|geben|reiche|reicht|"
    r"reichen|ubergib|ubergebe|ubergeben|schicke|schick|sende|eskaliere|eskalieren)\b"
)
_PRONOUN_DE = re.compile(r"\b(?:sie|diese|es|ihn|alle|alles)\b")


def _collected_for_staff(lex: Lexicon, clause: str, joins: list[str], pieces: list[str], index: int) -> bool:
    """German "nimm ... an" is "take in" as well as "accept": "Nimm Kündigungen an und leite sie an das Team
    weiter" collects them for staff. Only where the next clause hands the same on ("leite sie weiter", "gib die
    Kündigungen an das Team weiter"), not where the avatar takes them itself ("Nimm Kündigungen selbst an") or
    forwards something else ("... und leite nur Sonderfälle weiter")."""
    if lex is not DE or index >= len(joins) or joins[index].strip() not in ("und", ","):
        return False
    clause = lex.prepare(clause)
    if _OWN_DECISION.search(clause) or not _TAKE_DE.search(clause):
        return False
    following = lex.prepare(pieces[index + 1]).strip()
    if not (_HANDED_ON_DE.match(following) and (lex.deferral.search(following) or re.search(r"\bweiter\b", following))):
        return False
    noun = lex.obj.search(clause) or lex.cancellable.search(clause) or lex.instruct_obj.search(clause)
    if not (_PRONOUN_DE.search(following) or (noun and noun.group() in following)):
        return False
    return _clause_instructs(lex, _TAKE_DE.sub("", clause)) is None


def _bare_verb(lex: Lexicon, piece: str) -> re.Match[str] | None:
    """The decision verb a comma-separated piece consists of, after its words before it ("never approve",
    "reject"), if it ends there: a verb of a list whose object comes later."""
    match = lex.instruct_verb.search(piece)
    if match is None or piece[match.end() :].strip() or _ARTICLE_BEFORE.search(piece, 0, match.start()):
        return None  # not a noun read as a verb ("Never promise a refund, approve it yourself")
    return match


_ARTICLE_BEFORE = re.compile(
    r"\b(?:a|an|the|any|every|ein|eine|einen|einem|jede\w*|un|une|le|la|les|des|el|los|las|una|uno|il|lo|gli|een|het)\s+$"
)


def _negated_list(lex: Lexicon, clause: str, joins: list[str], pieces: list[str], index: int) -> bool:
    """A list of verbs after one negation, cut at its commas: "Never approve, reject or promise refunds
    yourself" forbids all three, as "Never approve or reject refunds" does. Read together when every piece
    before this one back to the negation is a bare decision verb ("never approve", "reject"); a piece with
    an object of its own ("Never approve discounts, approve refunds yourself") or no decision verb ("Don't
    hesitate, approve refunds") starts nothing."""
    start = index
    first = lex.instruct_verb.search(lex.prepare(clause))
    listed_verbs = {first.group()} if first else set()
    while start > 0 and joins[start - 1].strip() == ",":
        previous = lex.prepare(pieces[start - 1]).strip()
        verb = _bare_verb(lex, previous)
        if verb is None or verb.group() in listed_verbs:
            return False  # no list, or the negated verb said again ("Never approve, approve refunds yourself")
        listed_verbs.add(verb.group())
        start -= 1
        if lex.negation.search(previous[: verb.start()]):
            listed = " ".join(lex.prepare(piece).strip() for piece in pieces[start : index + 1])
            return _clause_instructs(lex, listed) is None
    return False


_AND = frozenset(("and", "und", "et", "y", "en", "e"))  # "e": see _given_after_e
_SELF = r"selbst|selber|eigenstandig|zelf|zelfstandig"
_PARTICLE = r"goed|af|terug|toe|ab|zu|zuruck|an|frei|uit|door"  # a separable verb's particle, ending its clause
_COMPLETE = re.compile(rf"\b(?:{_SELF})\b|\b(?:{_PARTICLE})\s*$")
# After the second object: at most one more word of it, the negation, and only "selbst"/"zelf" or
# the verb's particle to the end ("Rabatte nie selbst", "kortingen nooit zelf goed").
_PROHIBITION_TAIL = re.compile(
    r"\S*(?: \S+)? (?:nie|niemals|nicht|keine?n?|nooit|niet|nimmer|geen)"
    rf"(?: (?:{_SELF}|{_PARTICLE}))*\s*$"
)
_ARTICLE = re.compile(r"(?:(?:die|der|das|den|dem|ein|eine|einen|einem|alle|de|het|een)\s+)+")


def _with_second_object(lex: Lexicon, clause: str, joins: list[str], pieces: list[str], index: int) -> str | None:
    """Where the negation follows the verb (German, Dutch), a second object after "und"/"en" comes
    before it: "Genehmige Erstattungen und Rabatte nie selbst" is one prohibition, not "Genehmige
    Erstattungen" and a fragment. That clause, read together, unless what follows "und" starts a
    clause of its own: only a decision noun (after an article) is read as the second object."""
    if lex.negation_follows is None or index >= len(joins) or joins[index].strip() not in _AND:
        return None
    if _COMPLETE.search(clause):
        return None  # "Genehmige Erstattungen selbst und Rabatte nie": the first clause is whole
    following = _ARTICLE.sub("", lex.prepare(pieces[index + 1]).strip(), count=1)
    noun = next((m for m in (n.match(following) for n in (lex.obj, lex.cancellable, lex.grantable)) if m), None)
    if noun is None or not _PROHIBITION_TAIL.match(following, noun.end()):
        # Not a second object right before the negation that ends the sentence: maybe a clause of its own
        # ("und lehne Rabatte nie ab"), or a negation of something else ("und Rabatte für Kunden die nicht ...").
        return None
    return " ".join(lex.prepare(f"{clause} {joins[index].strip()} {pieces[index + 1]}").split())


# ---------------------------------------------------------------------------------------------
# The AI disclosure (EU AI Act Art. 50).

_SENT = r"[^.!?;\n]"  # within one sentence
_AI_TERMS = (
    r"\b(?:ai|a i|artificial intelligence|bot|chatbot|chat bot|virtual assistant|digital assistant|language model|llm|"
    r"automated system|machine|ki|kunstliche intelligenz|kunstlicher intelligenz|virtueller assistent|digitaler assistent|"
    r"sprachmodell|automatisiertes system|computerprogramm|ia|"
    r"intelligence artificielle|assistant virtuel|assistante virtuelle|agent conversationnel|robot conversationnel|"
    r"systeme automatise|programme informatique|modele de langage|"
    r"inteligencia artificial|asistente virtual|sistema automatizado|programa informatico|modelo de lenguaje|"
    r"intelligenza artificiale|assistente virtuale|sistema automatizzato|sistema automatico|programma informatico|"
    r"modello linguistico|kunstmatige intelligentie|virtuele assistent|digitale assistent|geautomatiseerd systeem|"
    r"computerprogramma|taalmodel)\b|\bki[ -]\w+|\w+[ -]?(?:bot|ki)\b"
)
# Words that deny or hide, in English, German, French, Spanish, Italian and Dutch. Spanish "no"
# counts only before a verb ("no soy", "no digas"): English "no" would catch "No problem, I am an AI".
_DENIAL = (
    r"not|never|don't|dont|do not|avoid|without|hide|conceal|deny|denying|nicht|nie|niemals|kein|keine|keinesfalls|"
    r"verschweige\w*|verheimliche\w*|verberge\w*|verstecke\w*|leugne\w*|"
    r"ne|n|pas|jamais|sans|cache|cacher|cachez|dissimul\w*|nier|niez|tais|taire|"
    r"no (?:soy|eres|es|somos|digas|diga|digan|reveles|revele|menciones|mencione|admitas|admita|reconozcas|reconozca|"
    r"confieses|indiques|indique|informes|informe)|nunca|jamas|sin|ocult\w*|escond\w*|nieg\w*|negar|calla|callar|"
    r"non|mai|senza|nascond\w*|negare|neghi|tacere|taci|"
    r"niet|nooit|geen|zonder|verberg\w*|verzwijg\w*|ontken\w*"
)
_HUMAN = r"(?:human|person|employee|staff member|member of staff|mensch|humain|humaine|personne|employe|conseiller|conseillere|" \
    r"humano|humana|persona|empleado|empleada|umano|umana|dipendente|operatore|mens|medewerker)"
_SAYS_AI = re.compile(_AI_TERMS)
_HIDES_AI = re.compile(
    rf"\b(?:{_DENIAL})\b{_SENT}{{0,60}}?(?:{_AI_TERMS})"
    r"|\b(?:pretend|claim|act as if|act like|present yourself as|pose as|introduce yourself as|impersonate|say) (?:to be |you are |that you are |you're )?"
    r"(?:an? )?(?:real )?(?:human|person|employee|staff member|member of staff|mensch)\b"
    r"|\bgib (?:dich|dir) {0,1}(?:\w+ ){0,2}als (?:ein\w* )?(?:mensch|person|mitarbeiter\w*|angestellt\w*) aus\b"
    r"|\btu(?:e|n sie)? so,? als (?:ob |wa?rst |waren sie )?(?:du |sie )?(?:ein\w* )?(?:mensch|person|mitarbeiter\w*)"
    r"|\b(?:skip|omit|drop|disable|remove|leave out|switch off|turn off) (?:the )?(?:ai )?disclosure\b"
    r"|\b(?:weglassen|auslassen|deaktivier\w*|abschalt\w*)\b.{0,30}\b(?:hinweis|offenlegung)"
    # French, Spanish, Italian, Dutch: pretending to be a person
    rf"|\b(?:fai\w*|feign\w*|feins|feindre) semblant (?:de |d')?(?:etre )?(?:un |une )?(?:vrai\w* |veritable )?{_HUMAN}"
    rf"|\b(?:fais|faites|faire|fait) (?:toi |vous )?passer pour (?:un |une )?(?:vrai\w* |veritable )?{_HUMAN}"
    rf"|\b(?:presente|presentez|presenter) (?:toi |vous )?(?:comme|en tant que) (?:un |une )?(?:vrai\w* )?{_HUMAN}"
    rf"|\b(?:finge|finja|fingir|simula|simule|aparenta|aparente) (?:que eres |que es |ser )?(?:un |una )?(?:verdader[oa] |real )?{_HUMAN}"
    rf"|\b(?:hazte|hagase|haceros) pasar por (?:un |una )?(?:verdader[oa] )?{_HUMAN}"
    rf"|\b(?:presentate|presentese|di que eres|diga que es) (?:como )?(?:un |una )?{_HUMAN}"
    rf"|\b(?:fingi|finga|fingere|fai finta|faccia finta|far finta) (?:di essere |d'essere )?(?:un |una |un' )?(?:vero |vera )?(?:essere )?{_HUMAN}"
    rf"|\b(?:spacciati|si spacci|presentati|si presenti) (?:per|come) (?:un |una )?(?:vero |vera )?{_HUMAN}"
    rf"|\bdoe (?:je |u )?(?:alsof|of) (?:je|u) (?:een )?(?:echte )?{_HUMAN}"
    rf"|\b(?:doe|geef) (?:je|u|jezelf|uzelf) (?:voor|uit) (?:als|voor) (?:een )?(?:echte )?{_HUMAN}"
    r"|\b(?:omet\w*|supprim\w*|desactiv\w*|omit\w*|elimin\w*|ometti|omettere|rimuovi|disattiva|laat|verwijder\w*|schakel)\b"
    r".{0,40}\b(?:mention|avis|aviso|indicacion|avviso|dichiarazione|melding|vermelding)"
)
_DISCLOSURE_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")


def discloses_ai(text: str, language: str) -> bool:
    """Whether a disclosure wording says that the avatar is an AI (and does not deny it).

    Checked for English, German, French, Spanish, Italian and Dutch wording; for other languages
    only denial is detected."""
    folded = fold(text).text
    if _HIDES_AI.search(folded):
        return False
    if language.split("-", 1)[0].lower() in _DISCLOSURE_LANGUAGES:
        return _SAYS_AI.search(folded) is not None
    return bool(folded.strip())


def disables_disclosure(text: str) -> bool:
    """Whether a style instruction would make the avatar hide that it is an AI."""
    return _HIDES_AI.search(fold(text).text) is not None
