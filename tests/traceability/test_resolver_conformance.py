"""The resolver against GS1's own test material, as one table.

Each case names where it comes from:
- SE: gs1/gs1-syntax-engine, src/c-lib/dl.c, the test_parseDLuri cases (GS1 Digital Link
  URI syntax: AIs in the query, duplicates, unknown AIs, key qualifiers, percent-encoding);
- TS: gs1/GS1DL-resolver-testsuite, GS1DigitalLinkResolverTestSuite.js and its statements
  of the standard (ConformantResolver1_0.txt, Conformance1_2.txt): CORS and methods, 400
  for a malformed link, trailing slash, walking up the tree, linkset by linkType and by
  Accept, Link header to the linkset, query string passed on, resolver description file;
- TK: GS1's Digital Link toolkit (GS1DigitalLinkToolkit.js in the test suite), whose
  compressGS1DigitalLink made the compressed links below from their uncompressed forms;
- RS: GS1-Conformant Resolver 1.1 (a 404 for a link type that is not available, every
  level up to the primary key in the linkset, owl:sameAs for a compressed link);
- DL: GS1 Digital Link URI Syntax 1.6 (GTIN-14, qualifier order, set 82, "%2F");
- IS: cases this project met (a lot "A/B-2026", a date ?17=261399).

The cases run through gunicorn's path handling (RAW_URI, the raw path) unless `decoded`
says they run as Django's runserver gives them (the decoded path only).
"""

import json
import re
from dataclasses import dataclass, field
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext

from traceability import gs1, gs1_ai, services
from traceability.models import Lot, SerialNumber

from .conftest import GTIN13


@pytest.fixture(autouse=True)
def _site_address(settings):
    """Links in linksets and Link headers carry the site's one configured address
    (SITE_BASE_URL), never the request's host; here it is the test client's."""
    settings.SITE_BASE_URL = "http://testserver"


pytestmark = pytest.mark.django_db
G14 = "0" + GTIN13
LOT = f"/01/{G14}/10/DEMO-NS0005"
VOC = "https://ref.gs1.org/voc/"


@dataclass
class Case:
    id: str
    source: str
    path: str
    status: int
    location: str | None = None  # expected Location (PRODUCT stands for the product page)
    content_type: str | None = None
    contains: str | None = None  # in the body
    headers: dict = field(default_factory=dict)
    method: str = "get"
    decoded: bool = False
    check: object = None  # a function(response) -> problem or None


PRODUCT = "<product page>"


def page(code: str) -> str:
    """Stands for the short link of lot `code` (its trace page, the default link)."""
    return f"<page:{code}>"


DEMO = page("DEMO-NS0005")
SLASH = page("A/B-2026")


def linkset_problems(data, levels=None) -> str | None:
    """RFC 9264 JSON shape and the GS1 resolver's rules for a linkset."""
    if not isinstance(data, dict) or not isinstance(data.get("linkset"), list):
        return "no linkset array"
    for entry in data["linkset"]:
        if not str(entry.get("anchor", "")).startswith("http"):
            return "anchor"
        typed = {}
        for key, value in entry.items():
            if key in ("anchor", "description", "itemDescription"):
                continue
            if not key.startswith(VOC) or not isinstance(value, list) or not value:
                return f"link type {key}"
            for link in value:
                if not link.get("href") or not link.get("title"):
                    return f"{key}: href and title"
                if key != VOC + "defaultLink" and link.get("type") != "text/html":
                    return f"{key}: type"
                if "hreflang" in link and not isinstance(link["hreflang"], list):
                    return "hreflang is a list"
            typed[key] = [link["href"] for link in value]
        default = entry.get(VOC + "defaultLink")
        if not default or len(default) != 1 or set(default[0]) != {"href", "title"}:
            return "one default link, href and title only"
        described = [h for k, hrefs in typed.items() if k != VOC + "defaultLink" for h in hrefs]
        if default[0]["href"] not in described:
            return "the default link is described by a descriptive link type too"
    if levels is not None and [e["anchor"] for e in data["linkset"]] != levels:
        return f"levels {[e['anchor'] for e in data['linkset']]}"
    return None


def linkset_check(levels=None, title=None):
    def check(response):
        data = json.loads(response.content)
        problem = linkset_problems(data, levels)
        if problem:
            return problem
        link = response.get("Link", "")
        if 'rel="http://www.w3.org/ns/json-ld#context"' not in link:
            return "Link to the JSON-LD context"
        if title and title not in data["linkset"][0][VOC + "defaultLink"][0]["title"]:
            return f"title {data['linkset'][0][VOC + 'defaultLink'][0]['title']}"
        return None

    return check


def header_check(name, *parts):
    def check(response):
        value = response.get(name, "")
        missing = [p for p in parts if p not in value]
        return f"{name}: {value!r} lacks {missing}" if missing else None

    return check


def no_gs1_rels(response):
    return "legacy gs1: links" if 'rel="gs1:' in response.get("Link", "") else None


def english_title(response):
    data = json.loads(response.content)
    title = data["linkset"][0][VOC + "defaultLink"][0]["title"]
    return None if title.startswith("Traceability of") else f"title {title!r}"


def vietnamese_title(response):
    data = json.loads(response.content)
    title = data["linkset"][0][VOC + "defaultLink"][0]["title"]
    return None if title.startswith("Truy xuất nguồn gốc") else f"title {title!r}"


def same_as(uncompressed):
    return header_check("Link", f'<http://testserver{uncompressed}>; rel="owl:sameAs"')


def description_file(response):
    data = json.loads(response.content)
    if data.get("supportedPrimaryKeys") != ["01"] or not data.get("name"):
        return f"description {data}"
    if not data.get("resolverRoot", "").startswith("http"):
        return "resolverRoot"
    if {"namespace": VOC, "prefix": "gs1:"} not in data.get("supportedLinkType", []):
        return "supportedLinkType"
    return None


LINKSET = "application/linkset+json"
CORS = header_check("Access-Control-Allow-Origin", "*")
LENGTH = "The product code (GTIN) must have 8, 12, 13 or 14 digits."
ORDER = (
    "The parts of the link are in the wrong order: after the product code "
    "come the variant (22), then the lot (10), then the serial number (21)."
)
LOT_CODE = (
    "The lot code must have 1 to 20 characters of GS1's set: letters without accents, "
    "digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
)

CASES = [
    # --- The primary key: GTIN ---------------------------------------------------------------
    Case("gtin14-only", "SE/TS", f"/01/{G14}", 307, location=PRODUCT),
    Case("gtin13-padded", "SE (zero-suppressed GTIN)", f"/01/{GTIN13}", 307, location=PRODUCT),
    Case(
        "gtin13-lot",
        "DL",
        f"/01/{GTIN13}/10/DEMO-NS0005",
        307,
        location=DEMO,
        contains="DEMO-NS0005",
    ),
    Case("gtin14-lot", "DL/TS defaultLink", LOT, 307, location=DEMO, contains="DEMO-NS0005"),
    Case(
        "trailing-slash", "TS trailingSlash", LOT + "/", 307, location=DEMO, contains="DEMO-NS0005"
    ),
    Case(
        "check-digit",
        "SE/DL",
        f"/01/{GTIN13[:-1]}{(int(GTIN13[-1]) + 1) % 10}/10/DEMO-NS0005",
        400,
        contains="The last digit (check digit) of the product code (GTIN) is wrong.",
    ),
    Case("gtin-not-digits", "SE", "/01/89312345678AB/10/DEMO-NS0005", 400, contains=LENGTH),
    Case("gtin-superscript", "DL", f"/01/{GTIN13[:-1]}%C2%B2", 400, contains=LENGTH),
    Case("unknown-gtin", "RS", "/01/09520123456788", 404),
    # --- Key qualifiers ------------------------------------------------------------------------
    Case("extra-segment", "TS reportWith400", LOT + "/foo", 400),
    Case("unknown-path-ai", "SE unknown AIs", f"/01/{G14}/89/ABC123", 400, contains="89"),
    Case("order", "SE/DL", f"/01/{G14}/21/S1/10/DEMO-NS0005", 400, contains=ORDER),
    Case("twice", "DL", f"/01/{G14}/10/DEMO-NS0005/10/L2", 400, contains=ORDER),
    Case("empty-segment", "DL", f"/01/{G14}//10/DEMO-NS0005", 400),
    Case("lot-too-long", "DL", f"/01/{G14}/10/{'A' * 21}", 400, contains=LOT_CODE),
    Case("lot-space", "DL", f"/01/{G14}/10/DEMO%20NS0005", 400, contains=LOT_CODE),
    Case("lot-not-set82", "DL", f"/01/{G14}/10/DEMO~NS0005", 400, contains=LOT_CODE),
    Case("lot-not-utf8", "DL", f"/01/{G14}/10/L%FF", 400),
    Case(
        "lot-percent-hyphen",
        "SE percent escaped",
        f"/01/{G14}/10/DEMO%2dNS0005",
        307,
        location=DEMO,
    ),
    Case(
        "lot-set82-encoded",
        "DL set 82",
        f"/01/{G14}/10/L%21%281%29",
        307,
        location=page("L!(1)"),
        contains="L!(1)",
    ),
    Case(
        "lot-set82-raw",
        "DL set 82",
        f"/01/{G14}/10/L!(1)",
        307,
        location=page("L!(1)"),
        contains="L!(1)",
    ),
    Case(
        "lot-slash-gunicorn",
        "IS",
        f"/01/{G14}/10/A%2FB-2026",
        307,
        location=SLASH,
        contains="A/B-2026",
    ),
    Case(
        "lot-slash-lower",
        "IS",
        f"/01/{G14}/10/A%2fB-2026",
        307,
        location=SLASH,
        contains="A/B-2026",
    ),
    Case(
        "lot-slash-runserver",
        "IS",
        f"/01/{G14}/10/A%2FB-2026",
        307,
        location=SLASH,
        contains="A/B-2026",
        decoded=True,
    ),
    Case("variant-lot", "SE", f"/01/{G14}/22/V%2d1/10/DEMO-NS0005", 307, location=DEMO),
    Case("serial", "SE", f"{LOT}/21/A0001", 307, location=DEMO + "A0001/", contains="A0001"),
    Case("unknown-serial", "TS basicWalkUp", f"{LOT}/21/NOPE1", 307, location=LOT),
    Case(
        "unknown-serial-query",
        "TS basicWalkUp/qsPassedOn",
        f"{LOT}/21/NOPE1?foo=bar",
        307,
        location=LOT + "?foo=bar",
    ),
    Case("tpx-235", "SE (235 key qualifier)", f"{LOT}/235/TPX1", 307, location=LOT),
    Case("gtin-235", "SE (235 key qualifier)", f"/01/{G14}/235/TEST", 307, location=PRODUCT),
    Case("unknown-lot", "TS basicWalkUp", f"/01/{G14}/10/KL8G", 307, location=PRODUCT),
    Case(
        "unknown-lot-query",
        "TS basicWalkUp",
        f"/01/{G14}/10/KL8G?foo=bar",
        307,
        location=PRODUCT + "?foo=bar",
    ),
    Case("variant-only", "SE", f"/01/{G14}/22/2A", 307, location=PRODUCT),
    # --- Data attributes in the query string -----------------------------------------------------
    Case("date-ok", "SE (17=180426)", f"{LOT}?17=261231", 307, location=DEMO + "?17=261231"),
    Case(
        "date-day-00",
        "SE (GS1 dates, day 00)",
        f"{LOT}?17=261200",
        307,
        location=DEMO + "?17=261200",
    ),
    Case("date-month-13", "IS", f"{LOT}?17=261399", 400, contains="261399"),
    Case("date-feb-30", "IS", f"{LOT}?15=260230", 400, contains="260230"),
    Case("date-short", "SE", f"{LOT}?17=2612", 400, contains="(17)"),
    Case("measure", "SE (3103=000195)", f"{LOT}?3103=000195", 307, location=DEMO + "?3103=000195"),
    Case(
        "three-ais",
        "SE",
        f"{LOT}?3103=000195&3922=0299&17=201225",
        307,
        location=DEMO + "?3103=000195&3922=0299&17=201225",
    ),
    Case("two-ais", "SE", f"{LOT}?99=ABC&98=XYZ", 307, location=DEMO + "?99=ABC&98=XYZ"),
    Case("empty-value", "SE", f"{LOT}?99=", 400, contains="(99)"),
    Case("non-ai-number", "SE", f"{LOT}?99=ABC&999=faux", 400, contains="999"),
    Case("unknown-ai", "SE", f"{LOT}?99=XYZ&89=ABC123", 400, contains="89"),
    Case(
        "separators",
        "SE",
        f"{LOT}?&&&99=ABC&&&&&&98=XYZ&&&",
        307,
        location=DEMO + "?99=ABC&98=XYZ",
    ),
    Case(
        "other-keys",
        "SE",
        f"{LOT}?99=ABC&unknown=666&98=XYZ",
        307,
        location=DEMO + "?99=ABC&unknown=666&98=XYZ",
    ),
    Case(
        "singletons",
        "SE",
        f"{LOT}?singleton1&99=ABC&singleton2&98=XYZ",
        307,
        location=DEMO + "?singleton1&99=ABC&singleton2&98=XYZ",
    ),
    Case("percent-value", "SE", f"{LOT}?98=XYZ%2f987", 307, location=DEMO + "?98=XYZ%2f987"),
    Case("plus-is-space", "SE", f"{LOT}?98=XYZ+987", 400),
    Case("qualifier-in-query", "SE", f"/01/{G14}?10=ABC123", 400, contains="(10)"),
    Case("gtin-twice", "SE duplicates", f"{LOT}?99=XYZ789&01={G14}", 400, contains="(01)"),
    Case("lot-twice", "SE duplicates", f"{LOT}?99=XYZ789&10=ABC123", 400, contains="(10)"),
    Case("ai-twice", "SE duplicates", f"{LOT}?99=XYZ789&99=XYZ789", 400, contains="(99)"),
    # --- Link types and the linkset -----------------------------------------------------------
    Case(
        "linkset",
        "TS ltLinksetNoRedirect/validLinkset",
        f"{LOT}?linkType=linkset",
        200,
        content_type=LINKSET,
        check=linkset_check([f"http://testserver{LOT}", f"http://testserver/01/{G14}"]),
    ),
    Case(
        "linkset-all",
        "TS ltAllNoRedirect",
        f"{LOT}?linkType=all",
        200,
        content_type=LINKSET,
        check=linkset_check(),
    ),
    Case(
        "linkset-accept",
        "TS ltAcceptHeader/declaredContentType",
        LOT,
        200,
        content_type=LINKSET,
        headers={"HTTP_ACCEPT": "application/linkset+json"},
        check=linkset_check(),
    ),
    Case(
        "linkset-accept-json",
        "TS (Accept: application/json)",
        LOT,
        200,
        content_type="application/json",
        headers={"HTTP_ACCEPT": "application/json"},
        check=linkset_check(),
    ),
    Case(
        "linkset-gtin",
        "RS",
        f"/01/{G14}?linkType=linkset",
        200,
        content_type=LINKSET,
        check=linkset_check([f"http://testserver/01/{G14}"]),
    ),
    Case(
        "linkset-serial-levels",
        "RS (each level up to the primary key)",
        f"{LOT}/21/A0001?linkType=linkset",
        200,
        content_type=LINKSET,
        check=linkset_check(
            [
                f"http://testserver{LOT}/21/A0001",
                f"http://testserver{LOT}",
                f"http://testserver/01/{G14}",
            ]
        ),
    ),
    Case(
        "linkset-unknown-lot",
        "RS (walk up)",
        f"/01/{G14}/10/KL8G?linkType=linkset",
        200,
        content_type=LINKSET,
        check=linkset_check([f"http://testserver/01/{G14}"]),
    ),
    Case(
        "linkset-english-prefix",
        "RS (Accept-Language)",
        f"/en{LOT}?linkType=linkset",
        200,
        check=english_title,
    ),
    Case(
        "linkset-english-browser",
        "RS (Accept-Language)",
        f"{LOT}?linkType=linkset",
        200,
        headers={"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"},
        check=english_title,
    ),
    Case(
        "linkset-vietnamese",
        "RS (Accept-Language)",
        f"{LOT}?linkType=linkset",
        200,
        headers={"HTTP_ACCEPT_LANGUAGE": "vi"},
        check=vietnamese_title,
    ),
    Case("pip", "TS loFor", f"{LOT}?linkType=gs1:pip", 307, location=PRODUCT),
    Case(
        "pip-uri", "TS (voc URI)", f"{LOT}?linkType=https://gs1.org/voc/pip", 307, location=PRODUCT
    ),
    Case(
        "pip-query",
        "TS qsPassedOn",
        f"{LOT}?linkType=gs1:pip&foo=bar",
        307,
        location=PRODUCT + "?foo=bar",
    ),
    Case(
        "default-query", "TS qsPassedOn", f"/01/{G14}?foo=bar", 307, location=PRODUCT + "?foo=bar"
    ),
    Case(
        "traceability",
        "RS",
        f"{LOT}?linkType=gs1:traceability",
        307,
        location=DEMO,
        contains="DEMO-NS0005",
    ),
    Case("default-link", "RS", f"{LOT}?linkType=gs1:defaultLink", 307, location=DEMO),
    Case("unavailable-type", "RS/TS (404)", f"{LOT}?linkType=gs1:epil", 404, contains="gs1:epil"),
    Case("unknown-type", "RS", f"{LOT}?linkType=nonsense", 404, contains="nonsense"),
    Case("unknown-type-gtin", "RS", f"/01/{G14}?linkType=gs1:recipeInfo", 404),
    # --- HTTP: Link header, CORS, methods -----------------------------------------------------
    Case(
        "link-on-lot-redirect",
        "TS linkOnRedirect",
        LOT,
        307,
        check=header_check("Link", f"<http://testserver{LOT}?linkType=linkset>", 'rel="linkset"'),
    ),
    Case(
        "link-on-redirect",
        "TS linkOnRedirect",
        f"/01/{G14}",
        307,
        location=PRODUCT,
        check=header_check("Link", 'rel="linkset"'),
    ),
    Case("no-legacy-links", "TS legacyLinkHeaders", LOT, 307, check=no_gs1_rels),
    Case("cors-lot", "TS corsCheck", LOT, 307, check=CORS),
    Case(
        "cors-expose",
        "TS corsCheck",
        f"/01/{G14}",
        307,
        check=header_check("Access-Control-Expose-Headers", "Link", "Location"),
    ),
    Case("cors-400", "TS corsCheck", LOT + "/foo", 400, check=CORS),
    Case(
        "options",
        "TS methodsCheck",
        LOT,
        204,
        method="options",
        check=header_check("Access-Control-Allow-Methods", "GET", "HEAD", "OPTIONS"),
    ),
    Case("head", "TS (HEAD)", LOT, 307, location=DEMO, method="head", check=CORS),
    Case(
        "vary-accept",
        "RS (content negotiation)",
        LOT,
        307,
        check=header_check("Vary", "Accept", "Accept-Language"),
    ),
    Case(
        "english-page",
        "RS (Accept-Language)",
        f"/en{LOT}",
        307,
        location="/en" + DEMO,
    ),
    Case(
        "english-browser",
        "RS (Accept-Language)",
        LOT,
        307,
        location="/en" + DEMO,  # one redirect, to the page in English
        headers={"HTTP_ACCEPT_LANGUAGE": "en"},
        check=CORS,
    ),
    Case(
        "description-file",
        "TS rdFile",
        "/.well-known/gs1resolver",
        200,
        content_type="application/json",
        check=description_file,
    ),
    # --- Compressed Digital Links (made with GS1's toolkit) ----------------------------------
    Case(
        "compressed-optimised",
        "TK (01,10 optimised)",
        "/CxA-7iCtstYYhh3xqWmmnI",
        307,
        location=DEMO,
        contains="DEMO-NS0005",
        check=same_as(f"/01/{G14}/10/DEMO-NS0005"),
    ),
    Case("compressed-plain", "TK", "/ARA-7iCtsiDWGIYd8alpppy", 307, location=DEMO),
    Case(
        "compressed-slash", "TK", "/CxA-7iCtsxEFfCWsmDJs", 307, location=SLASH, contains="A/B-2026"
    ),
    Case(
        "compressed-serial",
        "TK",
        "/CxA-7iCtstYYhh3xqWmmnJCi0AAI",
        307,
        location=DEMO + "A0001/",
        contains="A0001",
    ),
    Case(
        "compressed-date",
        "TK",
        "/CxA-7iCtstYYhh3xqWmmnIuf43g",
        307,
        location=DEMO,
        check=same_as(f"/01/{G14}/10/DEMO-NS0005?17=261231"),
    ),
    Case("compressed-gtin", "TK", "/ARA-7iCtsg", 307, location=PRODUCT),
    Case(
        "compressed-linkset",
        "RS (uncompressed subject)",
        "/CxA-7iCtstYYhh3xqWmmnI?linkType=linkset",
        200,
        content_type=LINKSET,
        check=linkset_check([f"http://testserver{LOT}", f"http://testserver/01/{G14}"]),
    ),
    Case("compressed-garbage", "TS (no 500)", "/zzzzzzzzzzzzzzzz", 404),
]


@pytest.fixture
def world(gtin_lot):
    """The demo lot with a serial, a lot "A/B-2026" and one with set-82 characters."""
    SerialNumber.objects.create(lot=gtin_lot, serial="A0001")
    for code, stored in (("TMP-SLASH", "A/B-2026"), ("TMP-SET82", "L!(1)")):
        lot = services.create_lot(
            product=gtin_lot.product,
            producer=gtin_lot.producer,
            by=None,
            code=code,
            quantity=gtin_lot.quantity,
            unit=gtin_lot.unit,
            province_code=gtin_lot.province_code,
            commune_code=gtin_lot.commune_code,
        )
        # Lots we create keep to a subset of set 82; a label printed elsewhere may not.
        Lot.objects.filter(pk=lot.pk).update(code=stored)
    return gtin_lot


def run(client, case: Case, product_url: str) -> str | None:
    """What is wrong with the answer to `case`, or None."""
    cache.clear()
    path, _sep, query = case.path.partition("?")
    extra = dict(case.headers)
    if not case.decoded:
        extra["RAW_URI"] = case.path  # gunicorn passes the raw request target on
    # The test client decodes the path as a WSGI server does (PATH_INFO).
    response = getattr(client, case.method)(path, QUERY_STRING=query, **extra)
    if response.status_code != case.status:
        return f"status {response.status_code}, expected {case.status}"
    if case.location is not None:
        expected = re.sub(
            r"<page:([^>]+)>",
            lambda m: f"/t/{Lot.objects.get(code=m.group(1)).short_code}/",
            case.location.replace(PRODUCT, product_url),
        )
        if response.get("Location") != expected:
            return f"Location {response.get('Location')!r}, expected {expected!r}"
    if case.check is not None and (problem := case.check(response)):
        return problem
    if response.status_code == 307 and case.contains and case.method == "get":
        # The default link: the trace page, one redirect away.
        response = client.get(response["Location"], **case.headers)
        if response.status_code != 200:
            return f"the default link answers {response.status_code}"
    if case.content_type and not response["Content-Type"].startswith(case.content_type):
        return f"Content-Type {response['Content-Type']}"
    if case.contains:
        body = unescape(response.content.decode())
        with translation.override("vi"):  # the page speaks the address's language
            translated = gettext(case.contains)
        if case.contains not in body and translated not in body:
            return f"body lacks {case.contains!r}"
    return None


def test_the_resolver_passes_every_case_of_the_table(client, world):
    product_url = world.product.get_absolute_url()
    failures = {
        f"{case.id} [{case.source}] {case.path}": problem
        for case in CASES
        if (problem := run(client, case, product_url)) is not None
    }
    passed = len(CASES) - len(failures)
    assert not failures, f"{passed}/{len(CASES)} cases pass; failing: {failures}"


def test_the_table_has_the_cases_it_claims():
    assert len({case.id for case in CASES}) == len(CASES)
    assert len(CASES) >= 80


# --- The parser alone (no database) ----------------------------------------------------------

PARSE = [
    # (source, path, query, decoded, expected DigitalLink fields or an error fragment)
    ("SE GTIN-8", "/01/02345673", "", False, {"gtin14": "00000002345673"}),
    ("SE GTIN-12", "/01/416000336108", "", False, {"gtin14": "00416000336108"}),
    ("SE GTIN-13", "/01/2112345678900", "", False, {"gtin14": "02112345678900"}),
    ("SE", "/01/09520123456788/22/2A", "", False, {"variant": "2A"}),
    ("SE", "/01/09520123456788/10/ABC123", "", False, {"lot": "ABC123"}),
    ("SE", "/01/09520123456788/21/12345", "", False, {"serial": "12345"}),
    (
        "SE",
        "/01/09520123456788/10/ABC1/21/12345",
        "17=180426",
        False,
        {"lot": "ABC1", "serial": "12345", "attributes": (("17", "180426"),)},
    ),
    ("SE", "/01/12312312312333/235/XYZ", "", False, {"extension": "XYZ"}),
    ("SE", "/01/12312312312333/22/ABC+123", "", False, {"variant": "ABC+123"}),
    ("DL", "/01/09520123456788/10/A%2FB", "", False, {"lot": "A/B"}),
    ("IS runserver", "/01/09520123456788/10/A/B-2026", "", True, {"lot": "A/B-2026"}),
    (
        "IS runserver",
        "/01/09520123456788/10/A/B/21/S",
        "",
        True,
        {"lot": "A/B", "serial": "S"},
    ),
    ("IS gunicorn", "/01/09520123456788/10/A/B-2026", "", False, "missing its value"),
    ("SE", "/01/12312312312333/21/X/235/Y", "", False, "wrong order"),
    ("SE", "/01/12312312312333", "99=ABC&999=faux", False, "999"),
    ("IS", "/01/12312312312333", "17=261399", False, "is not a date"),
]


@pytest.mark.parametrize(("source", "path", "query", "decoded", "expected"), PARSE)
def test_the_parser_on_its_own(source, path, query, decoded, expected):
    with translation.override("en"):
        if isinstance(expected, str):
            with pytest.raises(gs1.LinkError) as info:
                gs1.parse_digital_link(path, query, decoded=decoded)
            assert expected in str(info.value.message)
            return
        link = gs1.parse_digital_link(path, query, decoded=decoded)
    for name, value in expected.items():
        assert getattr(link, name) == value, (source, name)


def test_gs1s_own_compressed_example_decompresses():
    # The toolkit's own example (TK): a lot with "&" and "+", and AI 7003.
    assert gs1_ai.decompress("AQnYUc1gmiERBhQ0ytiyZuAGOLc1TQ") == [
        ("01", "05412345000013"),
        ("10", "ABC&+123"),
        ("7003", "1903061658"),
    ]
    # TK: sequence "1A" (01, 10, 21, 17) carries its values in sorted AI order.
    assert gs1_ai.decompress("GhFRJydaKI1XgkZYGUCjA5") == [
        ("01", "09520123456788"),
        ("10", "ABC123"),
        ("17", "180426"),
        ("21", "12345"),
    ]
    for bad in ("", "!!!", "zzzz", "A" * 3):
        with pytest.raises(gs1_ai.CompressionError):
            gs1_ai.decompress(bad)


# --- The page cache: one entry per exact path --------------------------------------------------


def test_a_lot_code_holding_21_never_shares_a_cached_page_with_a_serial(client, world):
    """Regression: lot "A/21/B" (…/10/A%2F21%2FB) and lot "A" serial "B" (…/10/A/21/B)
    decode to the same path; the page cache once served one for the other."""
    slash = Lot.objects.get(code="A/B-2026")
    Lot.objects.filter(pk=slash.pk).update(code="A/21/B")
    other = Lot.objects.get(code="L!(1)")
    Lot.objects.filter(pk=other.pk).update(code="A")
    SerialNumber.objects.create(lot_id=other.pk, serial="B")
    cache.clear()

    def get(raw):
        return client.get(raw, RAW_URI=raw)

    lot_link = get(f"/01/{G14}/10/A%2F21%2FB")
    assert lot_link.status_code == 307 and lot_link["Location"] == f"/t/{slash.short_code}/"
    again = get(f"/01/{G14}/10/A%2F21%2FB")  # from the fast path now
    assert again["Location"] == lot_link["Location"]
    # The shortcut answers with the resolver's headers too.
    assert again["Access-Control-Allow-Origin"] == "*" and 'rel="linkset"' in again["Link"]
    assert again["Link"].startswith(f"<http://testserver/01/{G14}/10/A%2F21%2FB?")
    lot_page = client.get(lot_link["Location"])
    assert lot_page.status_code == 200 and "A/21/B" in lot_page.content.decode()
    serial_link = get(f"/01/{G14}/10/A/21/B")
    assert serial_link["Location"] == f"/t/{other.short_code}/B/"
    serial_page = client.get(serial_link["Location"])
    assert serial_page.status_code == 200
    html = serial_page.content.decode()
    assert "A/21/B" not in html and serial_page["Cache-Control"] == "private, no-cache"
    # And the other way round: the serial first, then the lot.
    cache.clear()
    assert get(f"/01/{G14}/10/A/21/B")["Location"] == f"/t/{other.short_code}/B/"
    assert get(f"/01/{G14}/10/A%2F21%2FB")["Location"] == f"/t/{slash.short_code}/"
