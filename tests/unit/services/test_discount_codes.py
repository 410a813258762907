"""Discount codes have one canonical form (NFKC, then ASCII letters, digits, `-` and `_`,
upper-cased), used to store, reserve and compare them: a code spelled another way is the
same code, and its redemption limit holds across every spelling."""

from __future__ import annotations

import pytest

from domain.discounts import canonical_code
from domain.errors import DiscountCodeExhausted, InvalidDiscountCode
from services import admin
from tests.builders import build_world
from tests.unit.services.test_upgrade_payment import estimate, submit


@pytest.mark.parametrize(
    "spelled", ["FIRSTONE", "firstone", "ﬁrstone", " FirstOne ", "ＦＩＲＳＴＯＮＥ"]
)
def test_every_spelling_of_a_code_is_its_canonical_form(spelled) -> None:
    assert canonical_code(spelled) == "FIRSTONE"


@pytest.mark.parametrize("bad", ["", "first one", "fírstone", "code;drop", "x" * 65])
def test_a_code_outside_the_canonical_alphabet_is_refused_by_name(bad) -> None:
    with pytest.raises(InvalidDiscountCode):
        canonical_code(bad)


def test_a_single_use_code_is_redeemed_once_whatever_the_spelling(uow, deps) -> None:
    acme = build_world(uow)
    beta = build_world(uow, customer="cus_beta", sub_id="sub_beta_nl")
    admin.create_discount(uow, "FIRSTONE", 10, None, None, None, 1)

    first = estimate(uow, deps, acme, discount_code="ﬁrstone")
    submit(uow, deps, acme, first.id)

    with pytest.raises(DiscountCodeExhausted):
        estimate(uow, deps, beta, discount_code="FIRSTONE")


def test_a_code_created_in_another_spelling_is_stored_canonical(uow) -> None:
    admin.create_discount(uow, "ﬁrst-one", 10, None, None, None, 1)
    with uow:
        found = uow.catalog.discount("FIRST-ONE")
        assert found is not None and found.code == "FIRST-ONE"
