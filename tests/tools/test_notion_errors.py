"""Every kind of bad input gets Notion's error object with a 4xx and the code Notion uses, so
notion-client raises ``APIResponseError`` with the right ``.code`` (and never retries)."""

from __future__ import annotations

import json

import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import UnknownHTTPResponseError

from tests.tools.notion_support import NEW, OLD, client, find_page, notion_service, raw

ZERO = "0" * 32


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with notion_service(tmp_path_factory.mktemp("notion-errors")) as svc:
        yield svc


@pytest.fixture(scope="module")
def notion(service):
    return client(service)


@pytest.fixture(scope="module")
def page_id(notion):
    return find_page(notion, "Deploy procedure")["id"]


def check_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["object"] == "error" and body["status"] == status and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["request_id"], str) and len(body["request_id"]) == 36
    return body


def api_error(call) -> APIResponseError:
    with pytest.raises(APIResponseError) as err:
        call()
    return err.value


@pytest.mark.parametrize(
    "call",
    [
        lambda n: n.pages.retrieve(ZERO),
        lambda n: n.blocks.retrieve(ZERO),
        lambda n: n.blocks.children.list(ZERO),
        lambda n: n.databases.retrieve(ZERO),
        lambda n: n.data_sources.retrieve(ZERO),
        lambda n: n.data_sources.query(ZERO),
        lambda n: n.users.retrieve(ZERO),
        lambda n: n.comments.list(block_id=ZERO),
        lambda n: n.comments.retrieve(ZERO),
        lambda n: n.pages.properties.retrieve(ZERO, "title"),
        lambda n: n.blocks.delete(ZERO),
    ],
)
def test_unknown_ids_are_object_not_found(notion, call):
    error = api_error(lambda: call(notion))
    assert error.code == "object_not_found" and error.status == 404
    assert "00000000-0000-0000-0000-000000000000" in str(error)


@pytest.mark.parametrize("bad", ["not-an-id", "1234", "g" * 32, "%20"])
def test_malformed_ids_are_validation_errors(notion, bad):
    error = api_error(lambda: notion.pages.retrieve(bad))
    assert error.code == "validation_error" and error.status == 400
    assert "should be a valid uuid" in str(error)


def test_ids_of_the_wrong_kind_say_so(notion, service, page_id):
    error = api_error(lambda: notion.databases.retrieve(page_id))
    assert error.code == "validation_error" and "is a page, not a database" in str(error)
    old = client(service, OLD)
    db = old.search(filter={"property": "object", "value": "database"})["results"][0]["id"]
    error = api_error(lambda: notion.pages.retrieve(db))
    assert error.code == "validation_error" and "is a database, not a page" in str(error)


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda n, p: n.pages.create(properties={}), "body.parent should be defined"),
        (lambda n, p: n.pages.create(parent={"page_id": "x"}), "body.parent.page_id"),
        (lambda n, p: n.pages.create(parent={"workspace": True}), "top level"),
        (
            lambda n, p: n.pages.create(parent={"page_id": p}, properties={"title": "plain"}),
            "body.properties.title",
        ),
        (
            lambda n, p: n.pages.create(
                parent={"page_id": p}, properties={"title": [{"text": {"content": "x" * 2001}}]}
            ),
            "≤ `2000`",
        ),
        (
            lambda n, p: n.pages.create(
                parent={"page_id": p}, properties={"title": [{"text": {"content": 5}}]}
            ),
            "content should be a string",
        ),
        (
            lambda n, p: n.pages.create(
                parent={"page_id": p}, children=[{"paragraph": {"rich_text": "no"}}]
            ),
            "rich_text should be an array",
        ),
        (lambda n, p: n.pages.create(parent={"page_id": p}, children=[{"bogus": {}}]), "type"),
        (
            lambda n, p: n.blocks.children.append(p, children=[{"divider": {}}] * 101),
            "≤ `100`",
        ),
        (lambda n, p: n.blocks.children.append(p), "body.children should be defined"),
        (lambda n, p: n.blocks.children.list(p, page_size=101), "page_size should be ≤ `100`"),
        (lambda n, p: n.blocks.children.list(p, page_size=0), "page_size should be ≥ `1`"),
        (lambda n, p: n.blocks.children.list(p, start_cursor=ZERO), "start_cursor"),
        (lambda n, p: n.search(page_size="ten"), "page_size"),
        (lambda n, p: n.search(query=["x"]), "body.query"),
        (lambda n, p: n.search(sort={"direction": "up"}), "body.sort.timestamp"),
        (lambda n, p: n.comments.list(), "query.block_id should be defined"),
        (lambda n, p: n.pages.update(p, in_trash="yes"), "body.in_trash should be a boolean"),
        (
            lambda n, p: n.blocks.children.append(
                p, children=[{"code": {"rich_text": [], "language": "klingon"}}]
            ),
            "language",
        ),
        (
            lambda n, p: n.blocks.children.append(
                p,
                children=[
                    {
                        "toggle": {
                            "rich_text": [],
                            "children": [
                                {
                                    "toggle": {
                                        "rich_text": [],
                                        "children": [
                                            {
                                                "toggle": {
                                                    "rich_text": [],
                                                    "children": [{"divider": {}}],
                                                }
                                            }
                                        ],
                                    }
                                }
                            ],
                        }
                    }
                ],
            ),
            "nests more than 2 levels",
        ),
    ],
)
def test_bad_bodies_and_arguments_are_validation_errors(notion, page_id, call, needle):
    error = api_error(lambda: call(notion, page_id))
    assert error.code == "validation_error" and error.status == 400
    assert needle in str(error)


def test_invalid_json_and_non_object_bodies(service):
    with raw(service) as http:
        check_error(http.post("search", content=b"{not json"), 400, "invalid_json")
        check_error(http.post("search", content=b'{"query": NaN}'), 400, "invalid_json")
        check_error(http.post("search", content=b'{"page_size": 1e999}'), 400, "invalid_json")
        check_error(http.post("search", content=b"\xff\xfe"), 400, "invalid_json")
        body = check_error(http.post("search", content=b"[1, 2]"), 400, "validation_error")
        assert "body should be an object" in body["message"]
        # An empty body is an empty object, as notion-client sends for argument-less calls.
        assert http.post("search", content=b"").status_code == 200


def test_bad_or_missing_tokens_are_unauthorized(service):
    error = api_error(
        lambda: Client(auth="ntn_wrongtoken", base_url=service.url, retry=False).users.me()
    )
    assert error.code == "unauthorized" and error.status == 401
    with raw(service, token=None) as http:
        check_error(http.get("users/me"), 401, "unauthorized")
        check_error(
            http.get("users/me", headers={"Authorization": "Basic abc"}), 401, "unauthorized"
        )


def test_wrong_methods_and_unknown_paths_are_invalid_request_url(service, page_id):
    with raw(service) as http:
        check_error(http.delete(f"pages/{page_id}"), 400, "invalid_request_url")
        check_error(http.put(f"blocks/{page_id}"), 400, "invalid_request_url")
        check_error(http.get("search"), 400, "invalid_request_url")
        check_error(http.post("users"), 400, "invalid_request_url")
        check_error(http.get("nothing/here"), 400, "invalid_request_url")
        check_error(http.get(""), 400, "invalid_request_url")
        # Real endpoints this imitation does not serve say so, in Notion's words.
        body = check_error(http.post("databases", json={}), 400, "invalid_request")
        assert body["message"] == "Unsupported request: create a database."
    outside = raw(service).get(service.url + "/no/such/thing")
    check_error(outside, 400, "invalid_request_url")


def test_missing_or_unknown_version_is_notions_missing_version(service):
    with raw(service, version=None) as http:
        body = check_error(http.get("users/me"), 400, "missing_version")
        assert "Notion-Version header should be defined" in body["message"]
        check_error(
            http.get("users/me", headers={"Notion-Version": "2019-01-01"}), 400, "missing_version"
        )
    # notion-client does not know this code: it raises its generic HTTP error, as with Notion.
    odd = Client(auth="x", base_url=service.url, retry=False, notion_version="1999-01-01")
    with pytest.raises(UnknownHTTPResponseError) as err:
        odd.users.me()
    assert err.value.status == 400


def test_version_gated_endpoints(service):
    new, old = client(service, NEW), client(service, OLD)
    db = old.search(filter={"property": "object", "value": "database"})["results"][0]["id"]
    ds = new.databases.retrieve(db)["data_sources"][0]["id"]
    assert api_error(lambda: old.data_sources.query(ds)).code == "invalid_request_url"
    assert (
        api_error(lambda: new.request(path=f"databases/{db}/query", method="POST")).code
        == "invalid_request_url"
    )
    assert (
        api_error(lambda: old.pages.create(parent={"data_source_id": ds})).code
        == "validation_error"
    )


def test_errors_are_never_retried_server_errors(service, page_id):
    # A quick sweep of odd requests: all 4xx with the Notion error shape.
    with raw(service) as http:
        for method, path, body in [
            ("PATCH", f"pages/{page_id}", {"properties": {"title": {"rich_text": []}}}),
            ("PATCH", f"pages/{page_id}", {"icon": {"type": "file"}}),
            ("PATCH", f"blocks/{page_id}/children", {"children": [{"table": {"table_width": 2}}]}),
            ("POST", "comments", {"parent": {"page_id": page_id}, "rich_text": []}),
            ("POST", f"data_sources/{page_id}/query", {"filter": {"or": "x"}}),
            ("GET", f"pages/{page_id}/properties/%2F", None),
        ]:
            response = http.request(method, path, content=json.dumps(body) if body else None)
            assert 400 <= response.status_code < 500, (method, path, response.text)
            assert response.json()["object"] == "error"
