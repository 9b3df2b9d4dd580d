"""Directory filters and profiles, without a directory: escaping and attribute mapping."""

from __future__ import annotations

import pytest
from helpdesk_auth.directory import AttributeMap, Filters, profile_from_entry
from helpdesk_auth.settings import AD_ACTIVE_FILTER, OPENLDAP_ACTIVE_FILTER
from helpdesk_contracts.auth.v1 import EmployeeProfile

DN = "uid=maria.ivanova,ou=people,dc=example,dc=com"
FILTERS = Filters("(&(objectClass=person)(mail={email}))", OPENLDAP_ACTIVE_FILTER)


@pytest.mark.parametrize(
    ("typed", "in_filter"),
    [
        ("*)(uid=*))(|(uid=*@example.com", r"\2a\29\28uid=\2a\29\29\28|\28uid=\2a@example.com"),
        ("*@example.com", r"\2a@example.com"),
        ("a\\b@example.com", r"a\5cb@example.com"),
        ("nul\x00@example.com", r"nul\00@example.com"),
    ],
)
def test_user_input_is_escaped_into_a_literal(typed: str, in_filter: str) -> None:
    assert FILTERS.user(typed) == f"(&(objectClass=person)(mail={in_filter}))"


def test_the_active_filter_is_anded_with_the_user_filter() -> None:
    assert FILTERS.active_user("maria.ivanova@example.com") == (
        "(&(&(objectClass=person)(mail=maria.ivanova@example.com))(!(employeeType=disabled)))"
    )
    ad = Filters("(&(objectCategory=person)(mail={email}))", AD_ACTIVE_FILTER)
    assert ad.active_user("x@example.com").endswith(
        "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
    )


def test_without_an_active_filter_the_user_filter_stands_alone() -> None:
    assert Filters("(mail={email})", "").active_user("x@example.com") == "(mail=x@example.com)"


def test_a_full_entry_becomes_a_profile_with_cyrillic_text() -> None:
    attributes = {
        "mail": ["maria.ivanova@example.com"],
        "displayName": ["Иванова Мария Петровна"],
        "cn": ["Иванова Мария Петровна"],
        "telephoneNumber": ["+7 495 111-22-01"],
        "departmentNumber": ["Бухгалтерия"],
        "title": ["Главный бухгалтер"],
    }
    profile = profile_from_entry(
        DN, attributes, AttributeMap(), looked_up="maria.ivanova@example.com"
    )
    assert profile == EmployeeProfile(
        email="maria.ivanova@example.com",
        display_name="Иванова Мария Петровна",
        phone="+7 495 111-22-01",
        department="Бухгалтерия",
        title="Главный бухгалтер",
        directory_dn=DN,
    )


def test_missing_optional_attributes_stay_empty_and_cn_stands_in_for_the_name() -> None:
    attributes = {"mail": [], "cn": [b"Smith, John"], "telephoneNumber": []}
    profile = profile_from_entry(DN, attributes, AttributeMap(), looked_up="John.Smith@example.com")
    assert profile is not None
    assert profile.display_name == "Smith, John"
    assert profile.email == "John.Smith@example.com"  # no mail attribute: the address looked up
    assert (profile.phone, profile.department, profile.title) == (None, None, None)


def test_attribute_names_are_matched_case_insensitively_and_mapped() -> None:
    ad = AttributeMap(department="department")
    attributes = {"MAIL": "ivan@example.com", "DISPLAYNAME": "Петров Иван", "Department": "ИТ"}
    profile = profile_from_entry(DN, attributes, ad, looked_up="ivan@example.com")
    assert profile is not None
    assert (profile.display_name, profile.department) == ("Петров Иван", "ИТ")


def test_an_entry_without_any_name_is_not_a_profile() -> None:
    assert (
        profile_from_entry(
            DN, {"mail": ["x@example.com"]}, AttributeMap(), looked_up="x@example.com"
        )
        is None
    )


def test_very_long_values_are_cut_to_what_the_contract_allows() -> None:
    attributes = {"displayName": ["Я" * 1000], "title": ["t" * 300]}
    profile = profile_from_entry(DN, attributes, AttributeMap(), looked_up="x@example.com")
    assert profile is not None
    assert len(profile.display_name) == 256
    assert profile.title is not None and len(profile.title) == 256


def test_requested_attributes_are_unique() -> None:
    same = AttributeMap(display_name="cn", display_name_fallback="cn")
    assert same.requested().count("cn") == 1
