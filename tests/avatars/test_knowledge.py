"""Knowledge: splitting documents into chunks, and searching Q&A entries and chunks."""

from __future__ import annotations

import re

import pytest

from avatars.responders import Chunk, Document, KnowledgeIndex, QAEntry, chunk_body, chunk_document, split_document

HANDBOOK = """# Shop handbook

Welcome to the Example shop. This handbook answers the questions customers ask most often.

## Returns

You can return any item within 30 days of delivery. Pack it in its original box and attach the
return label from your confirmation e-mail. Refunds are paid to the original payment method within
five working days after the item arrives at our warehouse.

Items that were worn, washed or damaged by use cannot be returned. Gift cards are not refundable.

### Damaged goods

If a parcel arrives damaged, take a photo of the box and the item before unpacking further and send
it to our service team. We replace damaged goods free of charge.

## Delivery

We ship to Germany, Austria and Switzerland. Standard delivery takes two to four working days;
express delivery arrives the next working day if you order before noon.

Shipping costs 4.90 EUR per order and is free from 50 EUR.
"""


def body_words(text: str) -> list[str]:
    """The words of a text outside heading lines."""
    return [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]


# ---------------------------------------------------------------------------------------------------
# Splitting


@pytest.mark.parametrize("max_chars", [60, 120, 300, 800])
def test_no_chunk_exceeds_the_maximum_and_no_word_is_split_or_lost(max_chars: int) -> None:
    chunks = split_document(HANDBOOK, max_chars=max_chars)

    assert chunks
    assert all(len(chunk) <= max_chars for chunk in chunks)
    # every word of the document comes out whole, once, and in order
    assert [w for chunk in chunks for w in chunk_body(chunk).split()] == body_words(HANDBOOK)


def test_each_chunk_starts_with_the_headings_of_its_section() -> None:
    chunks = split_document(HANDBOOK, max_chars=300)

    damaged = [c for c in chunks if "photo of the box" in c]
    assert len(damaged) == 1
    assert damaged[0].startswith("# Shop handbook\n## Returns\n### Damaged goods\n\nIf a parcel arrives damaged")
    delivery = [c for c in chunks if "Shipping costs" in c][0]
    assert delivery.startswith("# Shop handbook\n## Delivery\n\n")
    # a sibling section does not inherit the previous section's subheading
    assert "Damaged goods" not in delivery


def test_a_short_document_is_one_chunk_per_section() -> None:
    chunks = split_document(HANDBOOK, max_chars=800)

    assert [c.split("\n\n", 1)[0].splitlines()[-1] for c in chunks] == [
        "# Shop handbook",
        "## Returns",
        "### Damaged goods",
        "## Delivery",
    ]


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    text = "First paragraph, short.\n\nSecond paragraph, also short.\n\nThird one here."

    assert split_document(text, max_chars=60) == [
        "First paragraph, short.\n\nSecond paragraph, also short.",
        "Third one here.",
    ]


def test_a_long_paragraph_is_split_between_sentences() -> None:
    text = "One sentence here. Another sentence follows. A third one ends it."

    assert split_document(text, max_chars=45) == ["One sentence here. Another sentence follows.", "A third one ends it."]


def test_plain_text_and_setext_headings() -> None:
    text = "Opening hours\n=============\n\nMonday to Friday 9 to 17.\n\nHolidays\n--------\n\nClosed on public holidays."

    assert split_document(text) == [
        "# Opening hours\n\nMonday to Friday 9 to 17.",
        "# Opening hours\n## Holidays\n\nClosed on public holidays.",
    ]
    assert split_document("Just text without any heading.") == ["Just text without any heading."]


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    text = "## Setup\n\n```sh\n# install the widget\nnpm install widget\n```"

    assert split_document(text) == ["## Setup\n\n```sh\n# install the widget\nnpm install widget\n```"]


def test_only_a_word_longer_than_a_chunk_is_cut() -> None:
    url = "https://example.com/" + "a" * 100
    chunks = split_document(f"See {url} for details.", max_chars=50)

    assert all(len(c) <= 50 for c in chunks)
    assert "".join(chunks).replace(" ", "") == f"See{url}fordetails."
    assert chunks[0] == "See" and chunks[-1].endswith("for details.")


def test_a_heading_trail_too_long_for_the_chunk_is_shortened_to_the_nearest_heading() -> None:
    text = "# " + "Very long title " * 10 + "\n\n## Fees\n\nShipping costs 4.90 EUR per order."

    chunks = split_document(text, max_chars=80)

    assert all(len(c) <= 80 for c in chunks)
    assert chunks[0].startswith("## Fees\n\n")


def test_empty_and_invalid_input() -> None:
    assert split_document("") == []
    assert split_document("# Only a heading\n\n## And another") == []
    with pytest.raises(ValueError):
        split_document("text", max_chars=10)


def test_chunk_document_numbers_the_chunks() -> None:
    chunks = chunk_document(Document("doc1", "Handbook", HANDBOOK, "en"), max_chars=300)

    assert [c.id for c in chunks] == [f"doc1:{i}" for i in range(len(chunks))]
    assert {(c.document_id, c.title, c.language) for c in chunks} == {("doc1", "Handbook", "en")}


# ---------------------------------------------------------------------------------------------------
# Searching

ENTRIES = [
    QAEntry("hours-en", ["What are your opening hours?", "When are you open?"], "We are open Monday to Friday, 9 to 17.", "en"),
    QAEntry(
        "hours-de",
        ["Wie sind Ihre Öffnungszeiten?", "Wann haben Sie geöffnet?"],
        "Wir haben Montag bis Freitag von 9 bis 17 Uhr geöffnet.",
        "de",
    ),
    QAEntry(
        "pay-en", ["Which payment methods do you accept?", "Can I pay by invoice?"], "We accept cards, PayPal and invoice.", "en"
    ),
    QAEntry("pay-de", ["Welche Zahlungsarten akzeptieren Sie?"], "Wir akzeptieren Karte, PayPal und Rechnung.", "de"),
    QAEntry("account", ["How do I delete my account?"], "Open your profile and choose 'Delete account'.", None, ["privacy"]),
]


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    handbook = chunk_document(Document("handbook", "Shop handbook", HANDBOOK, "en"), max_chars=300)
    return KnowledgeIndex.build(ENTRIES, handbook, language="en")


def test_the_matching_entry_ranks_first(index: KnowledgeIndex) -> None:
    hits = index.search("what are your opening hours", language="en")

    assert hits[0].id == "hours-en"
    assert hits[0].kind == "qa"
    assert hits[0].text == "We are open Monday to Friday, 9 to 17."
    assert hits[0].score == pytest.approx(1.0)


def test_other_word_forms_and_phrasings_find_the_entry(index: KnowledgeIndex) -> None:
    hit = index.search("Do you open on weekdays?", language="en")[0]

    assert hit.id == "hours-en"
    assert hit.matched == "When are you open?"


@pytest.mark.parametrize("query", ["Öffnungszeiten?", "offnungszeiten", "ÖFFNUNGSZEIT", "wann öffnen sie"])
def test_german_with_and_without_diacritics(index: KnowledgeIndex, query: str) -> None:
    assert index.search(query, language="de")[0].id == "hours-de"


def test_language_filter_keeps_entries_of_that_language_and_those_without(index: KnowledgeIndex) -> None:
    assert {h.id for h in index.search("PayPal", language="de")} <= {"pay-de"}
    assert index.search("delete account", language="de")[0].id == "account"  # no language: any
    hits = index.search("payment", language="en-GB")
    assert hits[0].id == "pay-en"
    assert {h.id for h in hits[1:]} <= {c.id for c in index.chunks}  # the handbook is English too


def test_chunks_are_searched_and_point_to_their_document(index: KnowledgeIndex) -> None:
    hit = index.search("my parcel arrived damaged", language="en")[0]

    assert hit.kind == "chunk"
    assert hit.document_id == "handbook"
    assert hit.matched == "Shop handbook"
    assert "photo of the box" in hit.text


def test_scores_are_normalised_and_sorted(index: KnowledgeIndex) -> None:
    hits = index.search("return damaged delivery refund", language="en", limit=10)

    assert len(hits) > 2
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 < h.score <= 1 for h in hits)
    assert len(index.search("return damaged delivery refund", language="en", limit=2)) == 2


def test_words_the_knowledge_never_mentions_lower_the_score(index: KnowledgeIndex) -> None:
    plain = index.search("opening hours", language="en")[0]
    padded = index.search("opening hours for bicycles repairs", language="en")[0]

    assert plain.id == padded.id == "hours-en"
    assert padded.score < plain.score


def test_nothing_to_find(index: KnowledgeIndex) -> None:
    assert index.search("bicycle repair", language="en") == []
    assert index.search("what is it?", language="en") == []  # stopwords only
    assert index.search("") == []
    assert KnowledgeIndex.empty().search("opening hours") == []
    assert len(KnowledgeIndex.empty()) == 0


def test_search_without_language_stems_each_entry_in_its_own(index: KnowledgeIndex) -> None:
    assert index.search("Öffnungszeiten")[0].id == "hours-de"
    assert index.search("payments")[0].id == "pay-en"


def test_the_same_query_gives_the_same_hits(index: KnowledgeIndex) -> None:
    rebuilt = KnowledgeIndex.build(ENTRIES, index.chunks, language="en")

    assert index.search("returns and refunds") == index.search("returns and refunds") == rebuilt.search("returns and refunds")


def test_an_entry_with_many_matching_variants_appears_once() -> None:
    entry = QAEntry("e", ["opening hours", "opening hours today", "opening hours tomorrow"], "9 to 17")
    other = QAEntry("o", ["shipping costs"], "4.90")

    hits = KnowledgeIndex.build([entry, other]).search("opening hours today")

    assert [h.id for h in hits] == ["e"]
    assert hits[0].matched == "opening hours today"


def test_chunk_ids_and_text_come_from_the_caller() -> None:
    chunk = Chunk("c-7", "d-1", "## Fees\n\nShipping costs 4.90 EUR.", "Prices", "en", 3)

    hit = KnowledgeIndex.build(chunks=[chunk]).search("shipping cost")[0]

    assert (hit.id, hit.document_id, hit.matched) == ("c-7", "d-1", "Prices")
    assert re.fullmatch(r"Shipping costs 4\.90 EUR\.", chunk_body(hit.text))
