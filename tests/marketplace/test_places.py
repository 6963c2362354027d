"""One rule for a place on the map (marketplace.core.places.Place): the commune must lie in
the province, for producer profiles, lots, members and organisations alike."""

import pytest
from django.core.exceptions import ValidationError
from vietnam_provinces import Ward

from farmers.models import Member, Organisation
from marketplace.core import geo
from marketplace.core.places import Place
from marketplace.models import ProducerProfile
from traceability.models import Lot

PLACED = [ProducerProfile, Lot, Member, Organisation]


def _two_provinces():
    """A commune of one province and a province elsewhere."""
    ward = next(iter(Ward.iter_all()))
    home = ward.province_code.value
    elsewhere = next(code for code, _name in geo.province_choices() if code != home)
    return ward.code.value, home, elsewhere


def _instance(model, **place):
    extra = {"kind": Organisation.Kind.POST_OFFICE} if model is Organisation else {}
    return model(**extra, **place)


@pytest.mark.parametrize("model", PLACED, ids=lambda m: m.__name__)
def test_every_placed_model_uses_the_one_rule(model):
    assert issubclass(model, Place)
    assert model.place_errors is Place.place_errors


@pytest.mark.parametrize("model", PLACED, ids=lambda m: m.__name__)
def test_a_commune_of_another_province_is_refused_with_a_clear_message(model):
    commune, home, elsewhere = _two_provinces()
    with pytest.raises(ValidationError) as caught:
        _instance(model, province_code=elsewhere, commune_code=commune).clean()
    assert caught.value.message_dict == {
        "commune_code": ["Xã, phường này không thuộc tỉnh, thành phố đã chọn."]
    }
    place = _instance(model, province_code=home, commune_code=commune)
    place.clean()
    assert place.location == f"{geo.commune_name(commune)}, {geo.province_name(home)}"


@pytest.mark.parametrize("model", PLACED, ids=lambda m: m.__name__)
def test_an_unknown_province_is_refused(model):
    commune, _home, _elsewhere = _two_provinces()
    with pytest.raises(ValidationError) as caught:
        _instance(model, province_code=999, commune_code=commune).clean()
    assert caught.value.message_dict == {"province_code": ["Không có tỉnh, thành phố này."]}


def test_an_organisation_may_have_no_commune_but_a_branch_must():
    _commune, home, _elsewhere = _two_provinces()
    Organisation(kind=Organisation.Kind.POST_OFFICE, province_code=home).clean()
    with pytest.raises(ValidationError) as caught:
        Organisation(kind=Organisation.Kind.ASSOCIATION_BRANCH, province_code=home).clean()
    assert caught.value.message_dict == {"commune_code": ["Chi hội phải thuộc một xã, phường."]}
