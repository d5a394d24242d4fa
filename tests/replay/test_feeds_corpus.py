"""The rss connector on feedparser's whole test corpus (~2 100 real-world-shaped documents), over loopback
HTTP as the harvest service drives it, compared with feedparser's own reading of the same bytes.

What a user would notice: a feed that crashes the harvest, items of a feed that readers show but the
archive lacks, or an archived item whose title, text, link, author or time differ from what a feed
reader shows. Every remaining difference is listed below with its reason; the tests fail when one
appears that is not listed, and when a listed one no longer differs (so the lists stay true).
(docs/platforms.md, RSS/Atom, quotes the numbers.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.replay.feed_corpus import Read, fields_of, read_corpus, record_fields

#: Documents where the connector archives fewer items than feedparser has entries, and why.
COUNT_DIFFERENCES: dict[str, str] = {
    "wellformed/rss/entity_in_doctype.xml": "declares an entity in its DOCTYPE: refused whole "
    "(entity declarations are how billion laughs and "
    "XXE work; none is expanded), quarantined with that reason; feedparser expands simple ones",
    "illformed/rss_incomplete_cdata.xml": "cut off inside a CDATA section: not well-formed, quarantined whole; "
    "no recovering parser, which "
    "would archive a cut-off item as published and its next complete reading as an edit",
    "illformed/geo/georss_point_no_coords.xml": (
        "its entry holds nothing (an empty georss:point): quarantined as empty, not archived"
    ),
    **dict.fromkeys(
        (
            "wellformed/atom/entry_link_rel_enclosure_no_href.xml",
            "wellformed/atom10/entry_link_rel_enclosure_no_href.xml",
            "wellformed/atom/entry_link_no_href_link_priority.xml",
            "wellformed/atom10/entry_link_no_href_link_priority.xml",
            "wellformed/lang/entry_content_xml_lang_blank_3.xml",
            "wellformed/node_precedence/atom10_id.xml",
            "wellformed/node_precedence/atom10_title.xml",
        ),
        "the same entry twice (same id, same content): one record, as a second one is the same record",
    ),
}

_CHARDET = (
    "no encoding label and not UTF-8: read as windows-1252 (wrong characters, no lost item); feedparser "
    "guesses the encoding with chardet"
)
_SANITIZE = (
    "script and style elements: left out of the text, as feedparser does, but feedparser also drops "
    "what its sanitizer deems unsafe (the test of its sanitizer), which the archive keeps"
)
_RELATIVE = "relative link: resolved against the feed's URL; feedparser resolves against xml:base or Content-Location"
_ATOM_ID_AS_LINK = (
    "entry without a link: feedparser takes its id as the link, the archive claims no link the feed did not give"
)
_RDF_ABOUT = (
    "RSS 1.0 item without <link>: its rdf:about (the item's URI, which RSS 1.0 says equals the "
    "link) is the record's url; feedparser gives no link"
)
_HYBRID = (
    "an Atom entry's elements in an RSS item (link href, summary, updated, feed-level author): not RSS; "
    "feedparser reads them"
)
#: (field, document pattern) → why the record differs from feedparser's reading there.
FIELD_DIFFERENCES: dict[tuple[str, str], str] = {
    ("title", r"illformed/chardet/"): _CHARDET,
    ("text", r"illformed/chardet/"): _CHARDET,
    ("title", r"wellformed/sanitize/"): _SANITIZE,
    ("text", r"wellformed/sanitize/"): _SANITIZE,
    (
        "text",
        r"encoding/(bozo_)?double-encoded-html\.xml",
    ): "UTF-8 encoded twice: kept as served; feedparser undoes the second encoding",
    ("text", r"encoding/bozo_linenoise\.xml"): "bytes no encoding reads: a different replacement per reader",
    (
        "text",
        r"wellformed/rss/item_description_and_summary\.xml",
    ): "RSS <description> is the text; feedparser prefers a non-RSS <summary> beside it",
    (
        "text",
        r"wellformed/rss/item_description_not_a_doctype\.xml",
    ): "a description of '<!' only: HTML-to-text reads a bogus declaration, feedparser the characters",
    ("text", r"wellformed/media-rss/media_group\.xml"): "Media RSS description: not read as the item's text",
    ("title", r"wellformed/media-rss/item_media_title"): "Media RSS title: not read as the item's title",
    (
        "title",
        r"wellformed/rss/item_category_image\.xml",
    ): "an item with no title: feedparser takes the title of an <image> inside a <category>",
    ("text", r"wellformed/psc/rss2\.0simplechapter\.xml"): _HYBRID,
    ("link", r"wellformed/psc/rss2\.0simplechapter\.xml"): _HYBRID,
    ("published", r"wellformed/psc/rss2\.0simplechapter\.xml"): _HYBRID,
    ("link", r"wellformed/(atom|atom10)/entry_id"): _ATOM_ID_AS_LINK,
    ("link", r"wellformed/base/http_entry_id_base_"): _ATOM_ID_AS_LINK,
    ("link", r"wellformed/lang/http_content_language_entry_title_inherit_2\.xml"): _ATOM_ID_AS_LINK,
    ("link", r"wellformed/base/(http_(entry|item)_link_base_|cdf_item_abstract_xml_base)"): _RELATIVE,
    ("link", r"(wellformed/rdf/rdf_item_|illformed/rdf_channel_empty_textinput)"): _RDF_ABOUT,
    (
        "published",
        r"wellformed/atom/entry_created",
    ): "Atom 0.3 <created> with no <issued>: the record's published time; feedparser keeps it apart",
    (
        "published",
        r"wellformed/rss/item_dcterms_created",
    ): "dcterms:created is the item's publication time here; feedparser keeps it apart",
    (
        "published",
        r"wellformed/atom/entry_updated_multiple_values\.xml",
    ): "several <modified>: the first counts here, the last in feedparser",
    (
        "link",
        r"wellformed/rss/item_guid_isPermaLink_ValueError\.xml",
    ): "a permalink guid that is no valid URL: kept as the feed gave it; feedparser drops it",
    ("author", r"wellformed/atom10/entry_authors_"): "several authors: the first here, the last in feedparser",
    (
        "author",
        r"wellformed/psc/(atomsimplechapter|atomsimplechapterexternal|ignore_multiple_psc_chapters)\.xml",
    ): "an Atom entry without an author has the feed's (RFC 4287 §4.2.1); feedparser leaves it empty",
}
#: Item-level quarantine reasons start with the cause; the URL follows.
CAUSES = ("unreadable feed item (", "unreadable feed (", "media ")


@pytest.fixture(scope="module")
def reads() -> dict[str, Read]:
    return read_corpus()


def test_the_whole_corpus_is_read_without_a_crash(reads: dict[str, Read]) -> None:
    assert len(reads) > 2000
    broken = {
        p: (r.outcome.kind, r.outcome.crash or r.outcome.error) for p, r in reads.items() if r.outcome.kind != "parsed"
    }
    assert broken == {}


def test_every_quarantine_reason_is_one_line_and_leads_with_its_cause(reads: dict[str, Read]) -> None:
    reasons = [(p, reason) for p, r in reads.items() for reason in r.outcome.reasons]
    assert len(reasons) >= 3
    bad = [(p, reason) for p, reason in reasons if "\n" in reason or not reason.startswith(CAUSES)]
    assert bad == []
    refused = next(reason for p, reason in reasons if p == "wellformed/rss/entity_in_doctype.xml")
    assert refused.startswith("unreadable feed (the document declares XML entities ('id'")


def test_every_item_is_a_record_or_a_quarantine_entry(reads: dict[str, Read]) -> None:
    """Each entry feedparser finds is archived, or quarantined with its reason (an empty item, or the whole
    document when it is refused), or is a repeat of one archived (the listed documents)."""
    lost = {}
    for path, read in reads.items():
        items = [r for r in read.outcome.reasons if r.startswith("unreadable feed item (")]
        accounted = len(read.outcome.records) + len(items)
        if (
            accounted != read.expected
            and not read.page_rejected
            and "same entry twice" not in COUNT_DIFFERENCES.get(path, "")
        ):
            lost[path] = (accounted, read.expected)
    assert lost == {}


def test_item_counts_equal_feedparsers_but_for_the_listed_documents(reads: dict[str, Read]) -> None:
    differ = {p: (len(r.outcome.records), r.expected) for p, r in reads.items() if len(r.outcome.records) != r.expected}
    assert {p: n for p, n in differ.items() if p not in COUNT_DIFFERENCES} == {}
    assert set(COUNT_DIFFERENCES) - set(differ) == set()  # the list names only real differences
    assert all(archived < expected for archived, expected in differ.values())  # never an item feedparser lacks


def _listed(field: str, path: str) -> bool:
    return any(f == field and re.match(pattern, path) for (f, pattern) in FIELD_DIFFERENCES)


def test_normalized_fields_equal_feedparsers_reading(reads: dict[str, Read]) -> None:
    """Title, text, link, author and published time of every record of every document whose items both read,
    against feedparser's entry in the same place."""
    compared: dict[str, int] = {}
    unexplained: list[tuple[str, str, Any, Any]] = []
    used: set[tuple[str, str]] = set()
    for path, read in reads.items():
        if len(read.outcome.records) != read.expected:
            continue
        for record, entry in zip(read.outcome.records, read.oracle.entries, strict=True):
            ours, theirs = record_fields(record), fields_of(entry)
            for field, value in ours.items():
                if value in (None, "") and theirs[field] in (None, ""):
                    continue
                compared[field] = compared.get(field, 0) + 1
                if value != theirs[field]:
                    if _listed(field, path):
                        used |= {(f, p) for (f, p) in FIELD_DIFFERENCES if f == field and re.match(p, path)}
                    else:
                        unexplained.append((path, field, value, theirs[field]))
    assert unexplained == []
    assert set(FIELD_DIFFERENCES) - used == set()  # every listed difference still occurs
    # Enough compared that the test means something: hundreds of texts and titles, dozens of the rest.
    assert compared["text"] > 300 and compared["title"] > 150
    assert min(compared["link"], compared["author"], compared["published"]) > 40


@pytest.mark.parametrize(
    "path",
    [
        "encoding/big5.xml",
        "encoding/euc-kr.xml",
        "encoding/euc-kr-item.xml",
        "encoding/http_application_atom_xml_gb2312_encoding.xml",
        "encoding/http_application_atom_xml_gb2312_charset.xml",
        "encoding/utf16.xml",
        "encoding/utf-16le-autodetect.xml",
        "encoding/utf-32be-autodetect.xml",
        "encoding/bozo_bogus_encoding.xml",
    ],
)
def test_the_issue_s_encodings_are_read(reads: dict[str, Read], path: str) -> None:
    """The documents that crashed or were refused (multi-byte encodings, UTF-16/32 without a BOM, an
    unknown encoding name) are read, their items as feedparser reads them."""
    read = reads[path]
    assert read.outcome.kind == "parsed" and not read.page_rejected
    assert len(read.outcome.records) == read.expected
    for record, entry in zip(read.outcome.records, read.oracle.entries, strict=True):
        assert record_fields(record)["title"] == fields_of(entry)["title"]


@pytest.mark.parametrize(
    "path, count",
    [
        ("wellformed/namespace/rss1.0withModules.xml", 1),
        ("wellformed/namespace/rss2.0NSwithModules.xml", 1),
        ("wellformed/atom/entry_title.xml", 1),
        ("entities/aacute.xml", 0),
    ],
)
def test_rdf_userland_atom_0_3_and_html_entities(reads: dict[str, Read], path: str, count: int) -> None:
    read = reads[path]
    assert not read.page_rejected and len(read.outcome.records) == read.expected
    assert read.expected >= count


def test_items_without_guid_or_link_get_a_stable_derived_id(reads: dict[str, Read]) -> None:
    derived = [r for read in reads.values() for r in read.outcome.records if r.item_id.startswith("sha256:")]
    assert len(derived) > 300
    again = read_corpus(["wellformed/rss/item_title.xml"])["wellformed/rss/item_title.xml"]
    first = reads["wellformed/rss/item_title.xml"]
    assert [r.item_id for r in again.outcome.records] == [r.item_id for r in first.outcome.records]
    assert first.outcome.records[0].item_id.startswith("sha256:")


def test_itunes_author_is_the_item_s_author(reads: dict[str, Read]) -> None:
    read = reads["wellformed/itunes/itunes_item_author_map_author.xml"]
    assert [r.author.name for r in read.outcome.records] == ["Mark Pilgrim"]
