"""What the client prints: tables for people (API text never read as markup), JSON/YAML
alone on stdout for scripts, notes on stderr in those modes."""

from __future__ import annotations

import json

import pytest
import yaml

from nfvo.cli.client.output import Format, details, emit, note, table, text_of, value_at, when

ROWS = [
    {"id": "a1", "name": "[red]web[/red]", "_admin": {"operationalState": "ENABLED"}},
    {"id": "b2", "name": None, "_admin": {"operationalState": "ERROR"}},
]
COLUMNS = [("ID", "id"), ("NAME", "name"), ("STATE", "_admin.operationalState")]


def test_cells() -> None:
    assert text_of(None) == "-" and text_of("") == "-" and text_of([]) == "-"
    assert text_of(True) == "yes" and text_of(False) == "no"
    assert text_of(["a", "b"]) == "a, b"
    assert text_of({"k": 1}) == '{"k": 1}'
    assert text_of([{"k": 1}]) == '[{"k": 1}]'
    assert value_at({"a": {"b": 3}}, "a.b") == 3
    assert value_at({"a": None}, "a.b") is None
    assert value_at({"x": 2}, lambda o: o["x"] * 2) == 4
    assert when("2024-05-01T10:20:30+02:00") == "2024-05-01 08:20:30"
    assert when(0) == "1970-01-01 00:00:00"
    assert when(None) == "-" and when("not a date") == "not a date"


def test_table_prints_api_text_literally(capsys: pytest.CaptureFixture[str]) -> None:
    emit(ROWS, Format.table, table(ROWS, COLUMNS))
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if "ID" in line and "NAME" in line)
    assert header.split() == ["ID", "NAME", "STATE"]
    assert "[red]web[/red]" in out  # not swallowed as rich markup
    row = next(line for line in lines if "b2" in line)
    assert row.split() == ["b2", "-", "ERROR"]
    assert "\x1b[" not in out  # no colours when stdout is not a terminal


def test_details_table(capsys: pytest.CaptureFixture[str]) -> None:
    emit(ROWS[0], Format.table, details(ROWS[0], COLUMNS))
    lines = [line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line]
    assert [(k, v.strip()) for k, v in lines] == [
        ("ID", "a1"),
        ("NAME", "[red]web[/red]"),
        ("STATE", "ENABLED"),
    ]


@pytest.mark.parametrize("fmt", [Format.json, Format.yaml])
def test_machine_output_is_alone_on_stdout(fmt: Format, capsys: pytest.CaptureFixture[str]) -> None:
    note(fmt, "accepted: op occurrence 42")
    emit(ROWS, fmt, table(ROWS, COLUMNS))
    captured = capsys.readouterr()
    parsed = json.loads(captured.out) if fmt is Format.json else yaml.safe_load(captured.out)
    assert parsed == ROWS
    assert "accepted: op occurrence 42" in captured.err


def test_notes_go_to_stdout_for_tables(capsys: pytest.CaptureFixture[str]) -> None:
    note(Format.table, "Deleted [x].")
    captured = capsys.readouterr()
    assert captured.out.strip() == "Deleted [x]." and captured.err == ""


def test_piped_table_has_one_line_per_row_and_no_padding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    long_id = "x" * 300
    rows = [{"id": long_id, "name": "web"}, {"id": "b2", "name": "db"}]
    emit(rows, Format.table, table(rows, [("ID", "id"), ("NAME", "name")], title="Things"))
    lines = capsys.readouterr().out.splitlines()
    assert all(line == line.rstrip() for line in lines)  # no blanks padding lines out
    row = next(line for line in lines if long_id in line)  # not folded over several lines
    assert row.split() == [long_id, "web"]
    assert max(len(line) for line in lines) < 320


def test_empty_list_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    emit([], Format.table, table([], COLUMNS, empty="no NS instances"))
    assert capsys.readouterr().out == "no NS instances\n"
    emit([], Format.json, table([], COLUMNS, empty="no NS instances"))
    assert json.loads(capsys.readouterr().out) == []


def test_nested_values_of_one_item_print_as_indented_yaml(
    capsys: pytest.CaptureFixture[str],
) -> None:
    item = {"name": "sim-1", "config": {"zones": 2, "hosts": {"count": 4, "vcpus": 32}}}
    emit(item, Format.table, details(item, [("NAME", "name"), ("CONFIG", "config")]))
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("CONFIG"))
    assert lines[start].split() == ["CONFIG", "zones:", "2"]
    assert [line.strip() for line in lines[start + 1 : start + 4]] == [
        "hosts:",
        "count: 4",
        "vcpus: 32",
    ]
    assert lines[start + 2].index("count") > lines[start + 1].index("hosts")  # indented


def test_package_images_say_where_they_come_from() -> None:
    from nfvo.cli.client.packages import _image_line

    carried = {"name": "fw", "userMetadata": {"imageSource": "PACKAGE"}}
    referenced = {"name": "ubuntu-22.04", "userMetadata": {"imageSource": "VIM"}}
    assert _image_line(carried) == "fw (in the package)"
    assert _image_line(referenced) == "ubuntu-22.04 (on the VIM)"
    assert _image_line({"id": "img-1"}) == "img-1"
