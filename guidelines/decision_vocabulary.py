"""The decision guard's vocabulary shared across its lexicons: the one-word step every language's
patterns use, and the English and German nouns for what a decision is about, what can be cancelled
or handed out, and the words that make a case one's own.

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
