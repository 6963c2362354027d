"""Vietnam's administrative map since 1 July 2025: 34 provinces, 3,321 communes/wards.

Codes are the official GSO codes as shipped by `vietnam-provinces`; names are looked up
here so that no table in the database has to be kept in sync with the package.
"""

from functools import cache

from vietnam_provinces import Province, Ward


def _clean(name: str) -> str:
    return " ".join(name.split())  # the data set has a few doubled spaces


@cache
def _provinces() -> dict[int, str]:
    return {p.code.value: _clean(p.name) for p in Province.iter_all()}


@cache
def _communes() -> dict[int, tuple[str, int]]:
    return {w.code.value: (_clean(w.name), w.province_code.value) for w in Ward.iter_all()}


def province_name(code: int | None) -> str:
    return _provinces().get(code, "") if code is not None else ""


def commune_name(code: int | None) -> str:
    return _communes().get(code, ("", 0))[0] if code is not None else ""


def commune_province(code: int) -> int | None:
    entry = _communes().get(code)
    return entry[1] if entry else None


def province_choices() -> list[tuple[int, str]]:
    return sorted(_provinces().items(), key=lambda item: item[1])


def is_valid_province(code: int) -> bool:
    return code in _provinces()


def commune_in_province(commune_code: int, province_code: int) -> bool:
    return commune_province(commune_code) == province_code


def find_commune(province_code: int, name: str) -> int:
    """Code of the commune named `name` (without its "Xã"/"Phường" prefix) in a province."""
    wanted = _clean(name)
    for code, (commune, province) in _communes().items():
        if province == province_code and (commune == wanted or commune.endswith(" " + wanted)):
            return code
    raise LookupError(f"No commune {name!r} in province {province_code}")
