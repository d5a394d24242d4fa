"""Made-up Swedish/English text as a municipality and its citizens write it.

Text is kept as *rich tokens* (plain text, links, hashtags, mentions) so each platform renders it
its own way (Mastodon's ``<a class="mention hashtag">`` markup, WordPress paragraphs). Citizens'
comments often carry personal data, as real ones do: personnummer with a correct Luhn check digit
(``19811218-9876`` and ``811218-9876``), samordningsnummer (day + 60), Swedish phone numbers,
e-mail addresses and street addresses. All names, places and domains are invented (``.example``).
"""

from __future__ import annotations

import calendar
import random
import re
import string
from dataclasses import dataclass, field

Token = tuple[str, str]  # ("text" | "link" | "tag" | "mention", value)

FIRST = [
    "Karin",
    "Lars",
    "Anna",
    "Erik",
    "Åsa",
    "Björn",
    "Maria",
    "Johan",
    "Elin",
    "Oskar",
    "Sofia",
    "Mohammed",
    "Fatima",
    "Ingrid",
    "Göran",
    "Märta",
    "Örjan",
    "Linnéa",
    "Jörgen",
    "Amira",
    "Per-Åke",
    "Siv",
    "Nils",
    "Ebba",
]
LAST = [
    "Ödmark",
    "Lindqvist",
    "Åberg",
    "Nyström",
    "Sjöberg",
    "Holm",
    "Berglund",
    "Hägglund",
    "Karlsson",
    "Öberg",
    "Strömberg",
    "Lundgren",
    "Yilmaz",
    "Hassan",
    "Näslund",
    "Wikström",
    "Bäckström",
    "Forsén",
]
STREETS = [
    "Storgatan",
    "Björkvägen",
    "Skolgatan",
    "Älvgatan",
    "Kyrkogatan",
    "Östra Långgatan",
    "Sjövägen",
    "Ängsvägen",
    "Tallbacken",
    "Gröna gången",
    "Hamngatan",
    "Södra vägen",
]
PLACES = ["Norrby", "Åkersjön", "Älvbacken", "Östersand", "Björkhöjden", "Lillmalm", "Sörbyn", "Kvarnåsen"]
LAKES = ["Norrsjön", "Lillsjön", "Mörtträsket", "Stora Öjen", "Gäddtjärn"]
MONTHS_SV = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
EMOJI = ["🏊‍♀️", "🚧", "📚", "❄️", "💧", "🌷", "👍🏽", "❤️", "😞", "🎉", "♻️", "🚌", "☀️", "🙏"]
MAIL_DOMAINS = ["example.se", "mejl.example", "post.example.com", "bredband.example"]
TOPICS = {
    "bad": ("Badplatsen vid {lake} är öppen igen! {e} Vattnet håller {n} grader.", "sommar"),
    "väg": ("Vägarbete på {street} {d}–{d2} {month}. Räkna med förseningar {e}", "trafik"),
    "kf": (
        "Välkommen till kommunfullmäktiges sammanträde den {d} {month} kl. {h}.00 i stadshuset. Mötet direktsänds.",
        "kommunfullmäktige",
    ),
    "bibl": ("Biblioteket i {place} har utökade öppettider under lovet {e} Välkomna in!", "bibliotek"),
    "snö": ("Snöröjningen pågår i hela kommunen {e} Gång- och cykelvägar prioriteras först.", "snöröjning"),
    "jobb": ("Vi söker sommarvikarier till äldreomsorgen i {place}! Ansök senast den {d} {month}.", "jobb"),
    "plan": ("Tyck till om översiktsplanen för {place} – samrådet pågår till den {d} {month}.", "översiktsplan"),
    "vatten": ("Kokningsrekommendationen i {place} är hävd {e} Tack för ert tålamod!", "vatten"),
    "åvc": ("Återvinningscentralen i {place} har nya öppettider från den {d} {month} {e}", "återvinning"),
}
TOPICS_EN = [
    (
        "Information in English: the recycling centre in {place} has new opening hours from {month} {d}. {e}",
        "recycling",
    ),
    ("Road works on {street} between {month} {d} and {d2}. Expect delays {e}", "traffic"),
    ("Welcome to the public library in {place}! Books in more than 40 languages {e}", "library"),
]
CITIZEN_PLAIN = [
    "Tack för infon! {e}",
    "Bra jobbat! {e}",
    "När kommer snöplogen till {street}? Har inte sett den på tre dagar.",
    "Varför stänger ni biblioteket i {place}? {e}",
    "Äntligen! Det har vi väntat länge på.",
    "Gatlyset på {street} är fortfarande trasigt.",
    "Finns det parkering vid {lake}?",
    "Thanks for the update, is there information in English?",
    "Hur ansöker man? Länken fungerar inte för mig.",
]
CITIZEN_PII = [
    "Hej, jag har fortfarande inte fått svar på min ansökan. Mitt personnummer är {pnr}, ring mig gärna på {phone}.",
    "Min son ({pnr_short}) har inte fått någon förskoleplats. Mejla mig på {email} tack.",
    "Jag bor på {address} och gatlyset har varit trasigt i två veckor. Nå mig på {phone_intl}.",
    "Mitt samordningsnummer är {snr} och jag väntar fortfarande på beslut. Telefon {phone}.",
    "My personal identity number is {pnr_short}, please call me at {phone_intl} or write to {email}.",
    "Skicka papperen till {address}. Personnummer {pnr_compact}. /{name}",
]
REPLIES_SV = [
    "Tack för att du hör av dig! Vi har skickat vidare till rätt förvaltning.",
    "Hej! Ring gärna kontaktcenter så hjälper vi dig. Skriv inte personuppgifter här.",
    "Vi tittar på det och återkommer så snart vi kan. {e}",
]


@dataclass
class Rich:
    """Text as paragraphs of tokens, plus whether it carries personal data."""

    paragraphs: list[list[Token]]
    language: str = "sv"
    pii: bool = False
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    def plain(self) -> str:
        """The text without markup (used to build titles and excerpts)."""
        out = []
        for para in self.paragraphs:
            parts = []
            for kind, value in para:
                parts.append({"tag": "#", "mention": "@"}.get(kind, "") + value)
            out.append("".join(parts))
        return "\n\n".join(out)


def luhn_digit(nine: str) -> int:
    """Check digit of a Swedish personnummer over YYMMDDNNN (weights 2,1,2,1,…)."""
    total = 0
    for i, ch in enumerate(nine):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v // 10 + v % 10
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """True when the last ten digits of a personnummer/samordningsnummer pass the Luhn check."""
    digits = "".join(c for c in number if c.isdigit())[-10:]
    return len(digits) == 10 and luhn_digit(digits[:9]) == int(digits[9])


def personnummer(r: random.Random, *, coordination: bool = False, style: str = "long") -> str:
    """A valid-looking number; ``style`` is ``long`` (19811218-9876), ``short`` (811218-9876) or ``compact``."""
    year, month = r.randint(1938, 2016), r.randint(1, 12)
    day = r.randint(1, calendar.monthrange(year, month)[1]) + (60 if coordination else 0)
    serial = r.randint(2, 999)
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    tail = f"{serial:03d}{luhn_digit(nine)}"
    if style == "short":
        return f"{nine[:6]}-{tail}"
    if style == "compact":
        return f"{year}{month:02d}{day:02d}{tail}"
    return f"{year}{month:02d}{day:02d}-{tail}"


def phone(r: random.Random, *, international: bool = False) -> str:
    """``070-123 45 67`` or ``+46 70 123 45 67``."""
    prefix = r.choice(["70", "72", "73", "76", "79"])
    a, b, c = r.randint(100, 999), r.randint(10, 99), r.randint(10, 99)
    return f"+46 {prefix} {a} {b} {c}" if international else f"0{prefix}-{a} {b} {c}"


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form used for slugs and e-mail local parts (å, ä → a; ö → o)."""
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
    return text.lower().translate(table)


def slugify(text: str, limit: int = 60) -> str:
    """``sanitize_title``-like: accents removed, lower case ASCII, single dashes."""
    base = "".join(c if c.isascii() and c.isalnum() else "-" for c in ascii_fold(text))
    return "-".join(p for p in base.split("-") if p)[:limit].strip("-")


def person(r: random.Random) -> tuple[str, str]:
    """A made-up first and last name."""
    return r.choice(FIRST), r.choice(LAST)


def email(r: random.Random, first: str, last: str) -> str:
    """``karin.odmark@example.se``."""
    local = ascii_fold(f"{first}.{last}").replace("-", "")
    return f"{local}{r.choice(['', '', str(r.randint(50, 99))])}@{r.choice(MAIL_DOMAINS)}"


def address(r: random.Random, town: str) -> str:
    """``Björkvägen 14, 852 31 Sundsvik``."""
    return f"{r.choice(STREETS)} {r.randint(1, 80)}, {r.randint(851, 869)} {r.randint(10, 99)} {town}"


def _fill(r: random.Random, template: str, town: str) -> str:
    """Fill a template's placeholders; only the ones present draw random numbers (fast, still deterministic)."""
    english = template.startswith(("Information in English", "Road", "Welcome"))
    makers = {
        "lake": lambda: r.choice(LAKES),
        "street": lambda: r.choice(STREETS),
        "place": lambda: r.choice(PLACES),
        "e": lambda: r.choice(EMOJI),
        "n": lambda: str(r.randint(14, 24)),
        "d": lambda: str(r.randint(1, 14)),
        "d2": lambda: str(r.randint(15, 28)),
        "h": lambda: str(r.randint(9, 18)),
        "month": lambda: (MONTHS_EN if english else MONTHS_SV)[r.randrange(12)],
        "pnr": lambda: personnummer(r),
        "pnr_short": lambda: personnummer(r, style="short"),
        "pnr_compact": lambda: personnummer(r, style="compact"),
        "snr": lambda: personnummer(r, coordination=True),
        "phone": lambda: phone(r),
        "phone_intl": lambda: phone(r, international=True),
        "email": lambda: email(r, *person(r)),
        "address": lambda: address(r, town),
        "name": lambda: " ".join(person(r)),
    }
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return template.format(**{name: makers[name]() for name in dict.fromkeys(names)})


def municipal_post(r: random.Random, town: str, site: str) -> Rich:
    """A municipality announcement: text, often a link and hashtags, sometimes English."""
    if r.random() < 0.15:
        template, tag = r.choice(TOPICS_EN)
        lang = "en"
    else:
        template, tag = TOPICS[r.choice(sorted(TOPICS))]
        lang = "sv"
    body: list[Token] = [("text", _fill(r, template, town))]
    if r.random() < 0.6:
        body += [("text", " " if lang == "en" else " Läs mer: "), ("link", f"https://www.{site}/{ascii_fold(tag)}")]
    tags = [tag] + ([ascii_fold(town)] if r.random() < 0.5 else [])
    para: list[Token] = []
    for t in tags:
        para += [("tag", t), ("text", " ")]
    return Rich([body, para[:-1]], lang, hashtags=tags)


def citizen_text(r: random.Random, town: str, *, pii: bool, mention: str | None = None) -> Rich:
    """A citizen's reply; with ``pii`` it contains personal data the archive must handle."""
    template = r.choice(CITIZEN_PII if pii else CITIZEN_PLAIN)
    text = _fill(r, template, town)
    para: list[Token] = ([("mention", mention), ("text", " ")] if mention else []) + [("text", text)]
    lang = "en" if template.startswith(("My ", "Thanks")) else "sv"
    return Rich([para], lang, pii=pii, mentions=[mention] if mention else [])


def municipal_reply(r: random.Random, town: str, mention: str) -> Rich:
    """The municipality answering a citizen."""
    text = _fill(r, r.choice(REPLIES_SV), town)
    return Rich([[("mention", mention), ("text", " " + text)]], "sv", mentions=[mention])


def wp_article(r: random.Random, town: str, site: str) -> tuple[str, list[str]]:
    """A blog post: a title and two to four paragraphs of plain text (links inline as URLs)."""
    first = municipal_post(r, town, site)
    lead = first.plain().split("\n\n")[0]
    title = lead.split(".")[0].split("!")[0].split(" – ")[0][:70].strip()
    paras = [lead]
    for _ in range(r.randint(1, 3)):
        paras.append(
            _fill(
                r,
                r.choice(
                    [
                        "Kommunstyrelsens ordförande: – Det här är en viktig fråga för alla som bor i {place}.",
                        "Har du frågor? Kontakta kontaktcenter på 060-19 00 00 eller besök oss på {street} {d}.",
                        "Arbetet beräknas vara klart i {month}. Vi ber om överseende med eventuella störningar {e}",
                        "Read more in English on our website. Questions are welcome in the comments below.",
                    ]
                ),
                town,
            )
        )
    return title, paras


_RICH = re.compile(r"(https?://\S+)|(?<!\w)#(\w+)|(?<!\w)@(\w+(?:@[\w.-]+\w)?)")


def parse(text: str, language: str = "sv") -> Rich:
    """Rich tokens from plain text given by a test: URLs, ``#tags`` and ``@mentions`` are recognised."""
    paragraphs: list[list[Token]] = []
    tags: list[str] = []
    mentions: list[str] = []
    for block in text.split("\n\n"):
        para: list[Token] = []
        pos = 0
        for m in _RICH.finditer(block):
            if m.start() > pos:
                para.append(("text", block[pos : m.start()]))
            if m.group(1):
                para.append(("link", m.group(1)))
            elif m.group(2):
                para.append(("tag", m.group(2)))
                tags.append(m.group(2).lower())
            else:
                para.append(("mention", m.group(3)))
                mentions.append(m.group(3))
            pos = m.end()
        if pos < len(block):
            para.append(("text", block[pos:]))
        paragraphs.append(para)
    return Rich(paragraphs, language, hashtags=tags, mentions=mentions)
