"""Reading feed bytes as feed readers do (archive/connectors/feedxml.py), and staying safe while at it."""

from __future__ import annotations

import pytest

from archive.connectors.feedxml import FeedError, decode, parse_feed, repair

RSS = '<rss version="2.0"><channel><item><title>{}</title></item></channel></rss>'


def title(data: bytes, content_type: str | None = None) -> str | None:
    return parse_feed(data, content_type).items[0].findtext("title")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_32_without_a_byte_order_mark_are_read_by_their_bytes(codec: str) -> None:
    data = ('<?xml version="1.0" encoding="utf-16"?>' + RSS.format("Ärende")).encode(codec)
    assert title(data) == "Ärende"


def test_multi_byte_encodings_are_decoded_before_parsing() -> None:
    for label, text in (("gb2312", "新闻"), ("big5", "新聞"), ("euc-kr", "뉴스"), ("shift_jis", "ニュース")):
        data = f'<?xml version="1.0" encoding="{label}"?>{RSS.format(text)}'.encode(label)
        assert title(data) == text, label
    # gb2312 as browsers read it: GB18030, which also has what GB2312 lacks
    assert title(f'<?xml version="1.0" encoding="gb2312"?>{RSS.format("€ 新")}'.encode("gb18030")) == "€ 新"


def test_the_http_charset_overrides_the_declaration_and_bad_labels_fall_back() -> None:
    data = ('<?xml version="1.0" encoding="utf-8"?>' + RSS.format("Växjö")).encode("cp1252")
    assert title(data, "text/xml; charset=windows-1252") == "Växjö"
    assert title(data) == "Växjö"  # not UTF-8 after all: windows-1252
    bogus = ('<?xml version="1.0" encoding="bogus"?>' + RSS.format("Umeå")).encode()
    assert title(bogus) == "Umeå"
    assert decode(bogus)[1] == "utf-8"


def test_html_entities_bare_ampersands_and_windows_1252_references_are_read_as_readers_do() -> None:
    assert (
        title(RSS.format("caf&eacute; &amp; te &#150; &nbsp;AT&T &bogus;").encode()) == "café & te – \xa0AT&T &bogus;"
    )
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    assert title((doctype + RSS.format("&aacute;")).encode()) == "á"
    assert repair("<![CDATA[&aacute; &]]>") == "<![CDATA[&aacute; &]]>"  # CDATA is left as it is


@pytest.mark.parametrize(
    "document, cause",
    [
        ('<!DOCTYPE rss [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;">]>' + RSS.format("&b;"), "declares XML entities ('a'"),
        ('<!DOCTYPE rss [<!ENTITY aacute "x">]>' + RSS.format("&aacute;"), "declares XML entities ('aacute'"),
        ('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + RSS.format("&x;"), "file:///etc/passwd"),
        ('<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>' + RSS.format("t"), "entities"),
    ],
)
def test_entity_declarations_stay_refused_after_repair(document: str, cause: str) -> None:
    for data in (document.encode(), document.encode("utf-16")):
        with pytest.raises(FeedError, match="^the document") as caught:
            parse_feed(data)
        assert cause in str(caught.value)


def test_formats_are_mapped_onto_rss_2_and_atom_1() -> None:
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b'<channel rdf:about="x"><title>c</title></channel><item rdf:about="u"><title>i</title></item></rdf:RDF>'
    )
    feed = parse_feed(rdf)
    assert (feed.kind, feed.container.findtext("title"), [i.findtext("title") for i in feed.items]) == (
        "rss",
        "c",
        ["i"],
    )
    assert b'xmlns:ns0="http://purl.org/rss/1.0/"' in feed.raw_items[0]  # the raw keeps the item as it was
    atom03 = b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title>e</title></entry></feed>'
    feed = parse_feed(atom03)
    assert feed.kind == "atom" and feed.items[0].findtext("{http://www.w3.org/2005/Atom}title") == "e"
    with pytest.raises(FeedError, match=r"^neither RSS nor Atom \(root element 'html'\)"):
        parse_feed(b"<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(FeedError, match=r"^not well-formed XML"):
        parse_feed(RSS.format("cut").encode()[:40])
