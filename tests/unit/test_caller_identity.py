"""Caller numbers in every format operators present them, and the territory they come from."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from svi_acd.routing.caller import identify, normalise_number

OVERSEAS_PREFIXES = {"0590", "0690", "0691", "0594", "0694", "0596", "0696", "0697", "0262",
                     "0263", "0692", "0693", "0269", "0639"}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "e164", "territory"),
    [
        ("+33612345678", "+33612345678", "FR"),
        ("0612345678", "+33612345678", "FR"),
        ("06 12 34 56 78", "+33612345678", "FR"),
        ("06.12.34.56.78", "+33612345678", "FR"),
        ("06-12-34-56-78", "+33612345678", "FR"),
        ("0033612345678", "+33612345678", "FR"),
        ("33612345678", "+33612345678", "FR"),
        ("+33 (0)1 45 67 89 12", "+33145678912", "FR"),
        ("0594 10 12 34", "+594594101234", "GF"),
        ("+594694201234", "+594694201234", "GF"),
        ("0596 30 12 34", "+596596301234", "MQ"),
        ("0596123456", "+596596123456", "MQ"),
        ("0696 20 12 34", "+596696201234", "MQ"),
        ("00596696201234", "+596696201234", "MQ"),
        ("596696201234", "+596696201234", "MQ"),
        ("0590 20 12 34", "+590590201234", "GP"),
        ("0690001234", "+590690001234", "GP"),
        ("+590590271234", "+590590271234", "GP"),  # Saint-Barthélemy
        ("+590 590 87 12 34", "+590590871234", "GP"),  # Saint-Martin
        ("0262 16 12 34", "+262262161234", "RE"),
        ("+262 692 12 34 56", "+262692123456", "RE"),
        ("0269 60 12 34", "+262269601234", "YT"),
        ("+262 269 60 12 34", "+262269601234", "YT"),
        ("0639 01 23 45", "+262639012345", "YT"),
        ("+508 41 12 34", "+508411234", "PM"),
        ("00508411234", "+508411234", "PM"),
        ("+687 25 12 34", "+687251234", "NC"),
        ("+44 20 7946 0958", "+442079460958", None),
        ("+1 212 555 0100", "+12125550100", None),
    ],
)
def test_numbers_are_normalised_and_placed(raw: str, e164: str, territory: str | None) -> None:
    identity = identify(raw)
    assert (identity.e164, identity.territory) == (e164, territory)


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "anonymous", "Anonymous", "unknown", "restricted", "private", "12",
     "1234", "abc", "++33", "+33 1 2", "+3361234567890123", "06 12 34 56 7x", "\x00\x01",
     "<script>", "0" * 40],
)  # fmt: skip
def test_withheld_or_garbage_numbers_have_no_identity(raw: str | None) -> None:
    identity = identify(raw)
    assert identity.e164 is None
    assert identity.territory is None
    assert not identity.known


@given(st.text(max_size=40))
def test_any_text_gives_an_identity_or_none_without_crashing(raw: str) -> None:
    e164 = normalise_number(raw)
    if e164 is not None:
        assert e164.startswith("+")
        assert e164[1:].isdigit()
        # Normalising a normalised number is stable.
        assert normalise_number(e164) == e164


@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True))
def test_metropolitan_national_numbers_are_placed_as_the_library_places_them(
    national: str,
) -> None:
    # They skip phonenumbers on the call path: the library must agree (overseas prefixes
    # are the table's, checked above).
    assume(national[:4] not in OVERSEAS_PREFIXES)
    number = phonenumbers.parse("+33" + national[1:], None)
    assert phonenumbers.is_possible_number(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert (identify(national).e164, identify(national).territory) == (e164, "FR")
