import sys

import pytest

from environments.stack import StackError, missing_executables, parse_stack, render
from tests.conftest import http_service, stack


def spec(*services):
    return {"name": "s", "services": list(services)}


def svc(name, **kw):
    return {"name": name, "argv": ["python3", "-V"], **kw}


def error_of(raw) -> str:
    with pytest.raises(StackError) as info:
        parse_stack(raw, source="test.yaml")
    return str(info.value)


def test_valid_stack_orders_dependencies_in_levels():
    s = parse_stack(
        spec(svc("db"), svc("api", depends_on=["db"]), svc("web", depends_on=["api"]), svc("cache"))
    )
    assert s.levels() == [["cache", "db"], ["api"], ["web"]]
    assert s.dependants("db") == {"api", "web"}


def test_unknown_dependency_names_the_service_and_lists_known_ones():
    msg = error_of(spec(svc("api", depends_on=["dbb"]), svc("db")))
    assert "service 'api' depends on unknown service 'dbb'" in msg
    assert "known: api, db" in msg


def test_dependency_cycle_shows_the_cycle():
    msg = error_of(
        spec(svc("a", depends_on=["b"]), svc("b", depends_on=["c"]), svc("c", depends_on=["a"]))
    )
    assert "dependency cycle: a -> b -> c -> a" in msg


def test_self_dependency_rejected():
    assert "service 'a' depends on itself" in error_of(spec(svc("a", depends_on=["a"])))


def test_duplicate_name_rejected():
    assert "duplicate service name 'api'" in error_of(spec(svc("api"), svc("api")))


def test_fixed_port_clash_names_both_owners():
    msg = error_of(
        spec(
            svc("a", ports=[{"name": "http", "fixed": 8080}]),
            svc("b", ports=[{"name": "http", "fixed": 8080}]),
        )
    )
    assert "port clash: 8080 is fixed for both a.http and b.http" in msg


def test_duplicate_port_name_in_one_service():
    msg = error_of(spec(svc("a", ports=[{"name": "http"}, {"name": "http"}])))
    assert "declares port 'http' twice" in msg


def test_health_check_on_undeclared_port():
    msg = error_of(spec(svc("a", health={"port": "metrics"})))
    assert "health check uses port 'metrics'" in msg


def test_unknown_placeholder_points_at_the_field():
    msg = error_of(spec(svc("a", argv=["python3", "--to={api.adress}"]), svc("api")))
    assert "service 'a' argv[1]: unknown placeholder {api.adress}" in msg
    msg = error_of(spec(svc("a", env={"X": "{prot}"})))
    assert "env.X: unknown placeholder {prot}" in msg


def test_schema_errors_name_the_field():
    msg = error_of({"name": "s", "services": [{"name": "Bad Name", "argv": []}]})
    assert "test.yaml is not a valid stack" in msg
    assert "services.0.name" in msg and "services.0.argv" in msg


def test_unknown_field_rejected():
    assert "services.0.comand" in error_of(spec(svc("a", comand="x")))


def test_all_problems_reported_at_once():
    msg = error_of(spec(svc("a", depends_on=["zz"]), svc("a")))
    assert "unknown service 'zz'" in msg and "duplicate service name 'a'" in msg


def test_missing_executable_reported_with_hint():
    s = parse_stack(
        spec(svc("a", argv=["definitely-not-a-binary-xyz"]), svc("b", argv=["{python}"]))
    )
    problems = missing_executables(s, {"python": sys.executable})
    assert problems == [
        (
            "service 'a': executable 'definitely-not-a-binary-xyz' not found; install it or run "
            "`prodbench doctor` to see how"
        )
    ]


def test_render_fills_placeholders_and_keeps_escaped_braces():
    assert render("http://{host}:{port}/x", {"host": "h", "port": "1"}) == "http://h:1/x"
    assert render('{{"a": {port}}}', {"port": "9"}) == '{"a": 9}'
    with pytest.raises(StackError, match=r"no value for placeholder \{nope\}"):
        render("{nope}", {})


def test_fixture_helper_builds_a_valid_stack():
    s = stack(http_service("a"), http_service("b", depends_on=["a"]))
    assert [x.name for x in s.services] == ["a", "b"]


def test_vars_placeholders_are_accepted_and_rendered_from_the_run():
    s = parse_stack(spec(svc("a", env={"RELEASE": "{vars.release}"})))
    assert s.services[0].env["RELEASE"] == "{vars.release}"
    assert render("{vars.release}", {"vars.release": "abc123"}) == "abc123"
    assert "unknown placeholder {vars}" in error_of(spec(svc("a", env={"X": "{vars}"})))


def test_on_request_and_runtime_access_default_off():
    s = parse_stack(spec(svc("api", start="on-request"), svc("deployer", runtime_access=True)))
    assert s.service("api").start == "on-request" and not s.service("api").runtime_access
    assert s.service("deployer").start == "up" and s.service("deployer").runtime_access


def test_a_job_cannot_be_started_on_request():
    msg = error_of(spec(svc("migrate", kind="job", start="on-request")))
    assert "service 'migrate': a job cannot be started on request" in msg


def test_start_mode_is_checked():
    assert "services.0.start" in error_of(spec(svc("api", start="later")))


def test_instance_placeholder_is_known():
    s = parse_stack(spec(svc("api", files={"state/{instance}.conf": "{instance} on {port}"})))
    assert s.services[0].files == {"state/{instance}.conf": "{instance} on {port}"}
    assert "{instance}" in error_of(spec(svc("a", env={"X": "{instanse}"})))


def test_an_executable_named_by_a_var_is_left_to_start_time():
    s = parse_stack(spec(svc("a", argv=["{vars.python}", "-V"])))
    assert missing_executables(s, {"python": sys.executable}) == []
