"""The decision guard's vocabulary shared across its lexicons: the one-word step every language's
patterns use; the English, German and Dutch nouns for what a decision is about, what can be
cancelled or handed out, and the words that make a case one's own; the Dutch words and clause
patterns that tell whose clause a negation after the verb belongs to.

Apart from `decision_lexicons` so that module stays within the size a reader can hold. Everything
is folded: lower case, no umlauts ("kundigung"), "ss" for "ß".
"""

WORD = r"(?:[\w']+ )"  # one word and its space

# Things a decision is about (nouns; the suffix \w* takes plurals and compounds).
OBJ_EN = (
    r"refund\w*|reimburse\w*|money back|compensation|chargeback\w*|loan\w*|credit(?! card)(?:s|\b)|mortgage\w*|"
    r"financing|application\w*|contract\w*|cancell?ation\w*|termination\w*|subscription\w*|membership\w*|claim\w*|"
    r"warrant(?:y|ies)|guarantee\w*|discount\w*|price\w*|pricing|quote\w*|rebate\w*|eligib\w*|insurance\w*|"
    r"credit limit|installment plan|payment plan|deferral"
)
OBJ_DE = (
    r"(?:ruck)?erstattung\w*|geld (?:\w+ )?(?:zuruck|wieder)|gutschrift\w*|entschadigung\w*|schadensersatz\w*|kredit(?!karte)\w*|"
    r"darlehen\w*|finanzierung\w*|ratenzahlung\w*|stundung\w*|antrag\w*|antrage\w*|vertrag\w*|vertrage\w*|kundigung\w*|"
    r"storno\w*|stornierung\w*|widerruf\w*|abos?\b|abonnement\w*|mitgliedschaft\w*|reklamation\w*|garantie\w*|"
    r"gewahrleistung\w*|kulanz\w*|anspruch\w*|rabatt\w*|nachlass\w*|preis\w*|sonderpreis\w*|berechtigung\w*|"
    r"versicherungs\w*|leistungsantrag\w*"
)
# Things bought or booked: a decision only when someone asks to cancel them.
CANCELLABLE = r"orders?|bookings?|reservations?|purchases?|bestellung\w*|buchung\w*|reservierung\w*|kauf\w*"
# What can be handed out: "give me a refund", "ich will mein Geld zurück".
GRANTABLE_EN = (
    r"refund\w*|money back|compensation|chargeback|loan\w*|credit(?! card)\b|mortgage|discount\w*|rebate\w*|"
    r"(?:better|special|lower|individual|personal|cheaper) (?:price|deal|offer|rate)|deal|price reduction|"
    r"reimbursement|extension|waiver"
)
GRANTABLE_DE = (
    r"(?:ruck)?erstattung\w*|geld (?:\w+ )?(?:zuruck|wieder)|gutschrift\w*|entschadigung\w*|schadensersatz|"
    r"kredit(?!karte)\w*|darlehen|rabatt\w*|nachlass\w*|preisnachlass|sonderpreis\w*|sonderkondition\w*|"
    r"(?:besser|gunstiger|individuell|personlich)\w* (?:preis|angebot|kondition)\w*|kulanz\w*|stundung"
)

OWN_EN = r"\b(?:my|me|mine|our|us|i|i'm|im|i've|i'd|myself)\b"
OWN_DE = r"\b(?:mein\w*|mir|mich|ich|unser\w*|uns)\b"

# Dutch words for reading a clause whose negation follows the verb (see `decision_lexicons`).
# What an avatar may be told to act as: "als avatar" is "as", not "if".
ROLE_NL = (
    r"(?:(?:ai|digitale|virtuele|vriendelijke|behulpzame)[- ]?)?(?:avatar|assistent\w*|chatbot|bot|ai|medewerker|"
    r"adviseur|vertegenwoordiger|agent)"
)  # not "klantenservice" or "helpdesk": "als klantenservice niet bereikbaar is" is "if"
SUBJECT_PRONOUN_NL = r"ik|je|jij|u|hij|zij|ze|we|wij|jullie|men|iemand"
# Numbers written out ("binnen dertig dagen", "meer dan tien procent").
NUMBER_NL = (
    r"twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|zestien|zeventien|achttien|"
    r"negentien|(?:(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen)en)?(?:twintig|dertig|veertig|vijftig|zestig|zeventig|"
    r"tachtig|negentig)|honderd|duizend|enkele"
)
# Words before a noun, so the word after them is no verb: articles, possessives, numbers, and
# object pronouns ("als de klant hen niet ...").
DETERMINER_NL = rf"de|het|een|deze|dit|dat|die|zijn|haar|hun|uw|je|jouw|mijn|onze|ons|geen|elk|ieder|{NUMBER_NL}|hen|hem|mij|me|jou|zich"
# A time span, whose unit in -en is no verb: "die de klant binnen dertig dagen aanvraagt".
TIME_UNIT_NL = r"(?:werk|kalender)?(?:dag|dagen|week|weken|maand|maanden|jaar|jaren|uur|uren|minuut|minuten|kwartaal|kwartalen)"
TIME_SPAN_NL = (
    rf"(?:(?:binnen|na|in|over|gedurende|sinds|langer dan|korter dan|meer dan|minder dan) )?(?:\d+|een|een paar|{NUMBER_NL}) "
    rf"{TIME_UNIT_NL}(?: geleden)?"
)
# Adverbs shaped like a finite verb (-t, -en): "als de klant echt niet betaalt".
ADVERB_NL = (
    r"echt|ooit|direct|alleen|misschien|even|net|vast|eerst|binnen|buiten|tevoren|tegen|intussen|wellicht|juist|absoluut|meteen"
)
# Finite verbs a relative clause ends on that are not shaped like one, or look like a possessive.
SHORT_VERB_NL = r"is|was|had|kan|kon|wil|mag|zal|zou|zijn"
# A limit after a negation: "nooit meer dan 10 %", "nooit na dertig dagen" still grants within it.
LIMIT_NL = (
    r" (?:boven|onder|meer dan|minder dan|hoger dan|lager dan|tot|vanaf|over|na|binnen|later dan|eerder dan|langer dan|"
    rf"korter dan) (?:\d|(?:{NUMBER_NL})\b|een {TIME_UNIT_NL}\b)"
)
# What "niet" qualifies rather than the verb: participles ("niet betaalde", "niet geleverde"),
# on- adjectives and adjectives that say a case is in order ("niet complete aanvragen") or a customer
# content ("niet tevreden klanten"), not any -de/-te word ("oude", "grote", "beide").
PARTICIPLE_NL = (
    r"(?:(?:in|op|af|aan|uit|door|mee|terug|toe|na|voor|weg|over|bij|om|vast)?ge|be|ver|ont|her|er)\w{2,}(?:d|t|de|te)"
    r"|onbe\w+|on\w{3,}e|complete|volledige|geldige|juiste|correcte|tijdige|tevreden"
)

# Who is given something, with a relative clause about them that ends on its verb ("klanten die niet
# tevreden zijn", "klanten die het product niet willen houden"): one step of the reach from "geef" to
# what is given, so the clause does not push "korting" out of it.
RECIPIENT_NL = (
    rf"(?:klant\w*|gebruiker\w*|mensen|leden|bezoekers|aanvragers) (?:die|welke) (?:[\w']+ ){{0,4}}?"
    rf"(?:{SHORT_VERB_NL}|\w+(?:t|en))"
)

# Dutch nouns: what a decision is about, what can be cancelled, what can be handed out.
OBJ_NL = (
    r"terugbetaling\w*|terugstorting\w*|restitutie\w*|mijn geld|geld terug|vergoeding\w*|schadevergoeding\w*|compensatie\w*|"
    r"lening\w*|krediet\w*|hypothe\w*|financiering\w*|aanvraag|aanvragen|verzoek\w*|contract\w*|overeenkomst\w*|"
    r"opzegging\w*|annulering\w*|abonnement\w*|lidmaatschap\w*|claim\w*|klacht\w*|garantie\w*|korting\w*|prijs\w*|"
    r"tarie\w*|offerte\w*|in aanmerking|verzekering\w*|betalingsregeling\w*|uitstel|\w+aanvra(?:ag|gen)\b"
)
CANCELLABLE_NL = r"bestelling\w*|boeking\w*|reservering\w*|aankoop\w*|order\w*"
GRANTABLE_NL = (
    r"terugbetaling\w*|restitutie\w*|mijn geld terug|geld terug|vergoeding\w*|schadevergoeding\w*|compensatie\w*|"
    r"lening\w*|krediet\w*|korting\w*|(?:betere|speciale|lagere|goede) prijs|prijsverlaging|uitstel|betalingsregeling\w*"
)

NOT_NL = r"niet|nooit|nimmer"
NO_NL = r"geen|vermijd\w*|verboden"
# As in German, a following negation negates something else inside a subordinate or relative
# clause, with or without its comma ("... goed als de klant niet tevreden is"), unless the clause's
# verb closed it first ("... die de klant aanvraagt nooit zelf goed"); after "niet", before a
# participle ("niet betaalde bestellingen"); before a limit ("nooit meer dan 10 %"). "of", "dat",
# "die" start a clause only before a subject or negation; "als" before a role ("als avatar") or
# after "net" means "as".
_STARTS_CLAUSE_NL = r"(?= (?:de|het|een|hij|zij|ze|u|je|jij|er|men|iemand|niet|nooit|geen|hun|zijn|haar|uw|mijn|onze|nog|echt)\b)"
_CONJUNCTION_NL = (
    rf"(?<!\bnet )als(?! {ROLE_NL}\b)|wanneer|indien|omdat|want|hoewel|terwijl|zodat|tenzij|zodra|nadat|voordat|totdat|"
    rf"zolang|mits|doordat|aangezien|ofschoon|alsof|waardoor|waarbij|waarvan|waarin|waarop|waarmee|wier|"
    rf"(?:of|dat){_STARTS_CLAUSE_NL}"
)
_RELATIVE_NL = rf"(?:die|dat|welke){_STARTS_CLAUSE_NL}"  # its subject may be the pronoun: "die een klacht hebben"
# An infinitive clause, "om" or "zonder" before a "te": "om klanten niet kwijt te raken".
_INFINITIVE_NL = r"(?:om|zonder|teneinde)(?= (?:(?!om\b)[\w']+ ){0,4}?te\b)"
SUBORDINATOR_NL = rf"{_CONJUNCTION_NL}|{_RELATIVE_NL}|{_INFINITIVE_NL}"
# After a negation, a clause that ends on its verb ("of de inhoud niet beschadigd is") owns it.
OWN_VERB_NL = (
    rf"(?: [\w']+){{0,2}}? (?:{SHORT_VERB_NL}|(?!(?:{ADVERB_NL}|{OBJ_NL}|{CANCELLABLE_NL}|{GRANTABLE_NL})\b)\w+(?:t|en))\s*$"
)
# A closed clause: its subject, maybe a time span, then a word shaped like a finite verb right
# before a negation that does not end a clause of its own. A noun after an article or adjective
# ("als de (nieuwe) klant niet") or a time unit is no verb; after a singular subject neither is a
# word in -en ("als de klant facturen niet betaalt").
_SUBJECT_NL = rf"(?:(?:{SUBJECT_PRONOUN_NL})|(?:\w+ ){{0,3}}?(?!(?:{DETERMINER_NL})\b)\w*[^\We\d])"
_PLURAL_NL = r"(?:(?<=en)|(?<=\ws)|(?<=\bze)|(?<=\bzij)|(?<=\bwe)|(?<=\bwij)|(?<=\bjullie))"
_NOT_A_VERB_NL = rf"(?!(?:{DETERMINER_NL}|{ADVERB_NL}|{TIME_UNIT_NL}|{NOT_NL}|{NO_NL})\b)"
_VERB_NL = rf"(?:{TIME_SPAN_NL} )?(?:{SHORT_VERB_NL}|{_NOT_A_VERB_NL}\w+(?:t|en|aan))"  # -aan: "die nog openstaan"
_SINGULAR_VERB_NL = rf"(?:{TIME_SPAN_NL} )?(?:{SHORT_VERB_NL}|{_NOT_A_VERB_NL}\w+t)"
CLOSED_CLAUSE_NL = (
    rf"\b(?:(?:{_RELATIVE_NL}) {_SUBJECT_NL} {_VERB_NL}|(?:{_CONJUNCTION_NL}) {_SUBJECT_NL}(?:{_PLURAL_NL} {_VERB_NL}| {_SINGULAR_VERB_NL})"
    rf"|(?:{_INFINITIVE_NL}) (?:[\w']+ ){{0,4}}?te \w+)"
    rf" (?=(?:ook )?(?:{NOT_NL}|{NO_NL})\b(?!{OWN_VERB_NL}))"
)
# Not of the verb either: a negation of an infinitive or of "te" meaning "too" ("niet te snel"), or a
# "niet" right after a preposition, which qualifies the noun phrase it starts ("korting voor niet
# tevreden klanten", "aan niet-leden"). The lookbehinds are one per word length.
_AFTER_PREPOSITION_NL = r"(?<!\b(?:op|na) )(?<!\b(?:aan|bij|met|tot|van|uit) )(?<!\b(?:voor|naar|over) )"
NOT_OF_THE_VERB_NL = rf"(?:{_AFTER_PREPOSITION_NL}niet(?! (?:{PARTICIPLE_NL}) \w)|nooit|nimmer)(?!{LIMIT_NL}| te\b)"
# "of" between two noun phrases ("terugbetalingen of een tegoedbon nooit ... goed") is no clause.
OR_NL = (
    rf"\b(?=\w+ of (?:de|het|een) )(?:{OBJ_NL}|{CANCELLABLE_NL}) of "
    rf"(?=(?:de|het|een) (?:\w+ ){{0,2}}?(?:{NOT_NL}|{NO_NL})\b(?!{OWN_VERB_NL}))"
)
# Matched from the end of the decision verb: a negation of the verb, not of a clause or phrase after it.
NEGATION_FOLLOWS_NL = rf"(?:{CLOSED_CLAUSE_NL}|{OR_NL}|(?!\b(?:{SUBORDINATOR_NL})\b).)*?\b(?:{NOT_OF_THE_VERB_NL}|{NO_NL})\b"
