"""The GS1 Digital Link parser, table-driven: what a scanner may send, and what we answer."""

import pytest
from django.utils import translation

from marketplace.core.validators import gs1_check_digit
from traceability.gs1 import (
    DigitalLink,
    LinkError,
    digital_link_path,
    parse_digital_link,
    product_gtin,
    upc_candidates,
)

G13 = "8931234567897"
assert str(gs1_check_digit(G13[:-1])) == G13[-1]
G14 = "0" + G13
G8 = "96385074"  # a valid GTIN-8
G12 = "036000291452"  # a valid UPC-A (GTIN-12)

VALID = [
    (f"/01/{G13}/10/L250715AB12", DigitalLink(G14, lot="L250715AB12")),
    (f"/01/{G13}/10/L250715AB12/", DigitalLink(G14, lot="L250715AB12")),
    (f"01/{G14}/10/ABC", DigitalLink(G14, lot="ABC")),
    (f"/01/{G8}/10/X1", DigitalLink("000000" + G8, lot="X1")),
    (f"/01/{G12}/10/X1", DigitalLink("00" + G12, lot="X1")),
    (f"/01/{G13}/10/L1/21/S-9", DigitalLink(G14, lot="L1", serial="S-9")),
    (f"/01/{G13}/22/V2/10/L1/21/S", DigitalLink(G14, variant="V2", lot="L1", serial="S")),
    # Percent-encoded characters are decoded segment by segment: %2F is part of the lot.
    (f"/01/{G13}/10/AB%2FCD", DigitalLink(G14, lot="AB/CD")),
    (f"/01/{G13}/10/A%2DB%2E%5FC", DigitalLink(G14, lot="A-B._C")),
    (f"/01/{G13}/10/{'A' * 20}", DigitalLink(G14, lot="A" * 20)),
    (f"/01/{G13}", DigitalLink(G14)),
    # Every character of GS1's set 82 may be in a lot code.
    (f"/01/{G13}/10/L!1", DigitalLink(G14, lot="L!1")),
]

INVALID = [
    ("/01/8931234567893/10/L1", "check digit"),  # wrong check digit
    ("/01/89312345678A3/10/L1", "8, 12, 13 or 14 digits"),  # not digits
    ("/01/1234567/10/L1", "8, 12, 13 or 14 digits"),  # 7 digits
    ("/01/123456789012345/10/L1", "8, 12, 13 or 14 digits"),  # 15 digits
    (f"/01/{G13}/10/{'A' * 21}", "1 to 20 characters"),  # lot too long
    (f"/01/{G13}/10/L%201", "1 to 20 characters"),  # a space
    (f"/01/{G13}/10/L%C3%A01", "1 to 20 characters"),  # "à": not in the set
    (f"/01/{G13}/10/L%FF", "1 to 20 characters"),  # not UTF-8
    (f"/01/{G13}/10/L~1", "1 to 20 characters"),  # "~" is not in set 82
    (f"/01/{G13}/21/S1/10/L1", "wrong order"),  # qualifiers out of order
    (f"/01/{G13}/10/L1/22/V", "wrong order"),
    (f"/01/{G13}/10/L1/10/L2", "wrong order"),  # twice
    (f"/01/{G13}/10", "missing its value"),
    (f"/01/{G13}/99/X", "do not know"),
    (f"/01/{G13}//10/L1", "empty"),
    ("/02/8931234567897", "not a product link"),
]


@pytest.mark.parametrize(("path", "expected"), VALID)
def test_valid_links_parse(path, expected):
    assert parse_digital_link(path) == expected


@pytest.mark.parametrize(("path", "message"), INVALID)
def test_malformed_links_are_refused_with_a_reason(path, message):
    with translation.override("en"), pytest.raises(LinkError) as info:
        parse_digital_link(path)
    with translation.override("en"):
        assert message in str(info.value.message)


def test_links_we_build_parse_back_to_the_same_lot():
    for lot in ("L250715AB12", "AB/CD", "a.b_c-d"):
        path = digital_link_path(G14, lot, serial="S1")
        assert parse_digital_link(path) == DigitalLink(G14, lot=lot, serial="S1")
    assert digital_link_path(G14, "AB/CD") == f"/01/{G14}/10/AB%2FCD"


def test_only_valid_gtins_count_as_a_products_gtin():
    class P:
        def __init__(self, upc):
            self.upc = upc

    assert product_gtin(P(G13)) == G14
    assert product_gtin(P(G8)) == "000000" + G8
    assert product_gtin(P("NS0001")) is None  # the demo codes are not GTINs
    assert product_gtin(P("8931234567893")) is None  # wrong check digit
    assert product_gtin(P("")) is None


def test_a_gtin14_is_looked_up_as_every_shorter_form_it_can_take():
    assert upc_candidates(G14) == [G14, G13]
    assert upc_candidates("000000" + G8) == ["000000" + G8, "00000" + G8, "0000" + G8, G8]
