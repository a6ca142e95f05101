"""Whatever a client sends, the status page answers ``{"error": ...}`` or success, never a 5xx,
and the public documents stay well-formed afterwards."""

from __future__ import annotations

import json
import string
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.conftest import fuzz_budget, running
from tests.tools.sentry_support import ACME_STATUSPAGE, PAGE_ID, STATUSPAGE_KEY

EXAMPLES, FUZZ = fuzz_budget(300)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "investigating",
            "resolved",
            "major_outage",
            "operational",
            "critical",
            "scheduled",
            "2026-11-21T10:00:00Z",
            "",
            "\ud800",
        ]
    ),
)
json_values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = [
    "name",
    "status",
    "body",
    "impact_override",
    "components",
    "component_ids",
    "deliver_notifications",
    "metadata",
    "scheduled_for",
    "scheduled_until",
    "description",
    "only_show_if_degraded",
    "showcase",
    "start_date",
    "display_at",
]
ENDPOINTS = [
    ("GET", "/v1/pages"),
    ("GET", "/v1/pages/{page}"),
    ("GET", "/v1/pages/{page}/components"),
    ("POST", "/v1/pages/{page}/components"),
    ("GET", "/v1/pages/{page}/components/{component}"),
    ("PATCH", "/v1/pages/{page}/components/{component}"),
    ("PUT", "/v1/pages/{page}/components/{component}"),
    ("DELETE", "/v1/pages/{page}/components/{component}"),
    ("GET", "/v1/pages/{page}/incidents"),
    ("POST", "/v1/pages/{page}/incidents"),
    ("GET", "/v1/pages/{page}/incidents/unresolved"),
    ("GET", "/v1/pages/{page}/incidents/scheduled"),
    ("GET", "/v1/pages/{page}/incidents/{incident}"),
    ("PATCH", "/v1/pages/{page}/incidents/{incident}"),
    ("DELETE", "/v1/pages/{page}/incidents/{incident}"),
    ("PATCH", "/v1/pages/{page}/incidents/{incident}/incident_updates/{update}"),
]
PUBLIC = [
    "/",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with (
        running(
            "statuspage", tmp_path_factory.mktemp("statuspage-fuzz"), [ACME_STATUSPAGE]
        ) as page,
        httpx.Client(base_url=page.url, timeout=10) as client,
    ):
        auth = {"Authorization": f"OAuth {STATUSPAGE_KEY}"}
        components = [
            c["id"] for c in client.get(f"/v1/pages/{PAGE_ID}/components", headers=auth).json()
        ]
        incidents = client.get(f"/v1/pages/{PAGE_ID}/incidents", headers=auth).json()
        known = {
            "page": [PAGE_ID],
            "component": components,
            "incident": [i["id"] for i in incidents],
            "update": [u["id"] for i in incidents for u in i["incident_updates"]],
        }
        yield page, client, known


@FUZZ
@given(data=st.data())
def test_every_endpoint_survives_arbitrary_requests(target, data):
    _, client, known = target
    method, template = data.draw(st.sampled_from(ENDPOINTS))
    junk = st.sampled_from(["x", "0", "%00", "Ä" * 3, "a" * 200]) | st.text(
        string.ascii_lowercase, max_size=12
    )
    path = template.format(**{k: data.draw(st.sampled_from(v) | junk) for k, v in known.items()})
    wrapper = data.draw(st.sampled_from(["incident", "component", "incident_update", None]))
    fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))
    if fields.get("components") is True:
        fields["components"] = {data.draw(st.sampled_from(known["component"])): "major_outage"}
    body = {wrapper: fields} if wrapper else fields
    how = data.draw(st.sampled_from(["json", "form", "raw"]))
    auth = data.draw(st.sampled_from([f"OAuth {STATUSPAGE_KEY}"] * 3 + ["", "OAuth x", "Bearer y"]))
    headers = {"Authorization": auth} if auth else {}
    if how == "json":
        content = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
        headers["Content-Type"] = "application/json"
    elif how == "form":
        flat = {f"{wrapper or 'incident'}[{k}]": json.dumps(v) for k, v in fields.items()}
        content = urlencode(flat, errors="surrogatepass").encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        content = data.draw(st.binary(max_size=200))
    params = data.draw(
        st.dictionaries(
            st.sampled_from(["page", "per_page", "limit", "q", "api_key"]),
            st.text(max_size=8),
            max_size=3,
        )
    )
    response = client.request(method, path, content=content, headers=headers, params=params)
    assert response.status_code < 500, (method, path, body, response.text[:400])
    if response.status_code >= 400:
        assert set(response.json()) == {"error"} and isinstance(response.json()["error"], str)


@settings(FUZZ, max_examples=max(30, EXAMPLES // 10))
@given(path=st.sampled_from(PUBLIC))
def test_public_page_stays_well_formed(target, path):
    _, client, _ = target
    response = client.get(path)
    assert response.status_code == 200
    if path.endswith(".json"):
        body = response.json()
        assert body["page"]["id"] == PAGE_ID
        for incident in body.get("incidents", []):
            assert incident["status"] and isinstance(incident["incident_updates"], list)
    else:
        assert "<html" in response.text
