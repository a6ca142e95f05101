"""company.yaml and its loader: the people every tool of a run is populated with."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from environments.acme.company import (
    DEFAULT_COMPANY_PATH,
    Company,
    CompanyError,
    load_company,
)

COMPONENTS = {"api", "web", "worker", "payments", "ingress", "infra", "migrations", "docs"}
TEAMS = {"Platform", "Storefront", "Payments", "Data", "Support", "Leadership"}


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_COMPANY_PATH.read_text(encoding="utf-8"))


def _load_modified(tmp_path: Path, data: dict) -> Company:
    path = tmp_path / "company.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_company(path)


def _person(data: dict, employee_id: str) -> dict:
    return next(e for e in data["employees"] if e["id"] == employee_id)


# -- the shipped company --------------------------------------------------------------------


def test_default_company_loads_with_facts():
    company = load_company()
    assert company.name == "Acme Commerce Inc."
    assert company.domain == "acme.dev"
    assert company.product
    assert company.founded.year < 2025
    assert 20 <= len(company.employees) <= 30
    assert {t.name for t in company.teams} == TEAMS
    assert set(company.components) == COMPONENTS


def test_employees_are_well_formed_and_unique():
    company = load_company()
    ids = [e.id for e in company.employees]
    assert len(ids) == len(set(ids))
    for field in ("email", "slack", "github", "name"):
        values = [getattr(e, field) for e in company.employees]
        assert len(values) == len(set(values)), field
    for e in company.employees:
        assert re.fullmatch(r"[a-z]+\.[a-z]+", e.id), e.id
        assert e.email == f"{e.id}@acme.dev"
        assert "/" in e.timezone
    # A spread of time zones: a distributed team, not one office.
    assert len({e.timezone for e in company.employees}) >= 8


def test_everyone_but_the_ceo_has_a_manager_chain_to_the_ceo():
    company = load_company()
    roots = [e for e in company.employees if e.manager is None]
    assert [e.id for e in roots] == ["priya.raman"]
    for e in company.employees:
        seen = set()
        while e.manager is not None:
            assert e.id not in seen
            seen.add(e.id)
            e = company.employee(e.manager)
        assert e.id == "priya.raman"


def test_lookups_and_ownership():
    company = load_company()
    maya = company.employee("maya.chen")
    assert maya.name == "Maya Chen" and maya.team == "platform"
    assert maya.git_identity == "Maya Chen <maya.chen@acme.dev>"
    payments = company.owners_of("payments")
    assert payments[0].id == company.owning_team("payments").lead == "rahul.mehta"
    assert {e.team for e in payments} == {"payments"}
    for component in COMPONENTS:
        owners = company.owners_of(component)
        assert owners, component
        assert all(component in company.team(e.team).components for e in owners)
    with pytest.raises(KeyError, match=r"did you mean 'maya\.chen'"):
        company.employee("maya.chne")
    with pytest.raises(KeyError, match="no component 'billing'"):
        company.owners_of("billing")


def test_team_leads_are_members_and_rotation_is_ordered():
    company = load_company()
    for team in company.teams:
        assert company.employee(team.lead).team == team.id
        assert company.members(team.id)[0].id == team.lead
    rotation = company.oncall_rotation
    assert len(rotation) >= 6
    assert rotation[:3] == ["tomasz.nowak", "emily.zhang", "grace.kim"]  # the file's order
    assert company.oncall_for_week(0).id == rotation[0]
    assert company.oncall_for_week(len(rotation) + 1).id == rotation[1]
    assert {e.id for e in company.employees if e.is_oncall_rotation} == set(rotation)


# -- validation messages --------------------------------------------------------------------


def test_unknown_team(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "emily.zhang")["team"] = "storefrnt"
    with pytest.raises(CompanyError, match=r"employee 'emily.zhang': unknown team 'storefrnt'"):
        _load_modified(tmp_path, data)


def test_unknown_manager(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "grace.kim")["manager"] = "rahul.mehtaa"
    with pytest.raises(
        CompanyError,
        match=r"employee 'grace.kim': unknown manager 'rahul.mehtaa' "
        r"\(did you mean 'rahul.mehta'\?\)",
    ):
        _load_modified(tmp_path, data)


def test_duplicate_id(tmp_path, raw):
    data = copy.deepcopy(raw)
    clone = copy.deepcopy(_person(data, "mei.lin"))
    clone.update(email="mei.lin2@acme.dev", slack="mei2", github="meilin2")
    data["employees"].append(clone)
    with pytest.raises(CompanyError, match=r"duplicate employee id 'mei.lin'"):
        _load_modified(tmp_path, data)


def test_duplicate_email(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "ana.souza")["email"] = "marcus.johnson@acme.dev"
    with pytest.raises(CompanyError, match=r"duplicate email 'marcus.johnson@acme.dev'"):
        _load_modified(tmp_path, data)


def test_team_lead_not_a_member(tmp_path, raw):
    data = copy.deepcopy(raw)
    next(t for t in data["teams"] if t["id"] == "data")["lead"] = "grace.kim"
    with pytest.raises(
        CompanyError,
        match=r"team 'data': lead 'grace.kim' is not a member \(they are in team 'payments'\)",
    ):
        _load_modified(tmp_path, data)


def test_rotation_member_unknown(tmp_path, raw):
    data = copy.deepcopy(raw)
    data["oncall_rotation"].append("tom.nowak")
    with pytest.raises(CompanyError, match=r"on-call rotation: unknown employee 'tom.nowak'"):
        _load_modified(tmp_path, data)


def test_rotation_and_flags_must_agree(tmp_path, raw):
    data = copy.deepcopy(raw)
    data["oncall_rotation"].remove("mei.lin")
    with pytest.raises(
        CompanyError, match=r"'mei.lin': is_oncall_rotation is true but they are not"
    ):
        _load_modified(tmp_path, data)


def test_component_ownership_is_checked(tmp_path, raw):
    data = copy.deepcopy(raw)
    next(t for t in data["teams"] if t["id"] == "data")["components"].append("api")
    with pytest.raises(
        CompanyError, match=r"component 'api' is owned by several teams: storefront, data"
    ):
        _load_modified(tmp_path, data)


def test_management_cycle(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "priya.raman")["manager"] = "maya.chen"
    with pytest.raises(
        CompanyError,
        match=r"management cycle: daniel.okafor -> priya.raman -> maya.chen -> daniel.okafor",
    ):
        _load_modified(tmp_path, data)


def test_every_problem_is_reported_at_once(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "emily.zhang")["team"] = "nope"
    _person(data, "ana.souza")["email"] = "ana@example.com"
    with pytest.raises(CompanyError) as info:
        _load_modified(tmp_path, data)
    message = str(info.value)
    assert str(tmp_path / "company.yaml") in message
    assert "unknown team 'nope'" in message
    assert "email 'ana@example.com' is not on the company domain 'acme.dev'" in message


def test_unknown_fields_are_rejected(tmp_path, raw):
    data = copy.deepcopy(raw)
    _person(data, "leo.martin")["pronouns"] = "he/him"
    with pytest.raises(
        CompanyError, match=r"employees\.\d+\.pronouns: Extra inputs are not permitted"
    ):
        _load_modified(tmp_path, data)


def test_model_validate_raises_validation_error(raw):
    data = copy.deepcopy(raw)
    data["teams"] = [t for t in data["teams"] if t["id"] != "support"]
    with pytest.raises(ValidationError, match="unknown team 'support'"):
        Company.model_validate(data)


def test_missing_file(tmp_path):
    with pytest.raises(CompanyError, match="file not found"):
        load_company(tmp_path / "absent.yaml")
