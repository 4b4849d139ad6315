"""RCA templates: the built-ins validate; a broken template is refused naming the field and
what is wrong; conditions become alternatives (OR, NOT pushed onto the terms)."""

from __future__ import annotations

import pytest

from nfvo.policy.rca import templates as t

GOOD = """
metadata: {version: 3, name: custom_one, description: a test}
entities:
  a: {category: ALARM, type: HOST_DOWN}
  m: {category: ALARM, type: ALERT}
  host: {category: RESOURCE, type: host}
  server: {category: RESOURCE, type: server}
scenarios:
  - condition: a [on] host AND host [contains] server AND NOT m [on] host
    actions:
      - raise_alarm: {target: server, alarm_name: x down, causing_alarm: a}
"""


def test_the_builtins_validate() -> None:
    names = [b.name for b in t.builtins()]
    assert names == ["host_down", "vim_unreachable", "virtual_link_down", "vnf_alarm"]
    host = next(b for b in t.builtins() if b.name == "host_down")
    assert host.builtin
    kinds = {a.kind for s in host.scenarios for a in s.actions}
    assert kinds == {"set_state", "mark_down", "raise_alarm", "add_causal_relationship"}


def test_a_good_custom_template() -> None:
    tpl = t.parse(GOOD)
    (scenario,) = tpl.scenarios
    (clause,) = scenario.clauses
    assert len(clause.positive) == 2 and len(clause.negative) == 1
    assert clause.negative[0] == t.Literal("m", "on", "host", negated=True)
    assert dict(scenario.actions[0].params)["severity"] == "MAJOR"  # the default


def test_or_and_not_become_alternatives() -> None:
    dnf = t.parse_condition("a [on] h AND NOT (b [on] h OR c [on] h)", "c")
    assert len(dnf) == 1 and [lit.negated for lit in dnf[0]] == [False, True, True]
    dnf = t.parse_condition("(a [on] h OR b [on] h) AND h [contains] s", "c")
    assert len(dnf) == 2
    dnf = t.parse_condition("a [on] h AND NOT (b [on] h AND c [on] h)", "c")
    assert len(dnf) == 2  # NOT (x AND y) = NOT x OR NOT y


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("[on] host AND host", "[over] host AND host"), "scenarios[0].condition", "[over]"),
        (("NOT m [on] host", "NOT z [on] host"), "scenarios[0].condition", "'z'"),
        (("a [on] host AND", "host [on] a AND"), "scenarios[0].condition", "ALARM"),
        (
            ("target: server,", "target: nope,"),
            "scenarios[0].actions[0].raise_alarm.target",
            "nope",
        ),
        (
            ("target: server,", "target: a,"),
            "scenarios[0].actions[0].raise_alarm.target",
            "RESOURCE",
        ),
        (("version: 3", "version: 2"), "metadata.version", "3"),
        (("type: host}", "type: hostess}"), "entities.host.type", "hostess"),
        (
            ("alarm_name: x down", "alarm_nam: x"),
            "scenarios[0].actions[0].raise_alarm.alarm_nam",
            "not a field",
        ),
        (
            ("causing_alarm: a", "causing_alarm: a, severity: LOUD"),
            "scenarios[0].actions[0].raise_alarm.severity",
            "CRITICAL",
        ),
        (("name: custom_one", "name: 'bad name!'"), "metadata.name", "letters"),
        (("AND NOT m [on] host", "AND NOT m [on] server2"), "scenarios[0].condition", "server2"),
        (
            (
                "a [on] host AND host [contains] server AND NOT m [on] host",
                "a [on] host OR host [contains] server",
            ),
            "scenarios[0].condition",
            "alarm entity",
        ),
        (
            ("a [on] host AND host [contains] server", "a [on] host AND server"),
            "scenarios[0].condition",
            "not related",
        ),
    ],
)
def test_a_broken_template_names_the_field(change: tuple[str, str], field: str, words: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(t.TemplateError) as err:
        t.parse(text)
    assert err.value.status == 422
    assert err.value.extra["field"] == field, err.value.detail
    assert words in err.value.detail


def test_an_action_entity_must_be_bound_in_every_alternative() -> None:
    text = GOOD.replace(
        "a [on] host AND host [contains] server AND NOT m [on] host",
        "(a [on] host AND host [contains] server) OR a [on] host",
    )
    with pytest.raises(t.TemplateError) as err:
        t.parse(text)
    assert "every alternative" in err.value.detail
    assert err.value.extra["field"] == "scenarios[0].actions[0].raise_alarm.target"


def test_not_yaml_and_oversized_documents() -> None:
    with pytest.raises(t.TemplateError, match="not valid YAML at line 2"):
        t.parse("metadata: [\n")
    with pytest.raises(t.TemplateError, match="limit"):
        t.parse("#" * (t.MAX_TEXT + 1))
    with pytest.raises(t.TemplateError, match="empty"):
        t.parse("  ")
    with pytest.raises(t.TemplateError, match="alternatives"):
        cond = " AND ".join(f"(a [on] x{i} OR a [on] y{i})" for i in range(5))  # 32 of them
        t.parse_condition(cond, "c")
