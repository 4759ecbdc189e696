"""Service input forms: the subset a form may use, a citizen's answers checked against it, and their masks."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import pytest

from app.catalog.form_inputs import check_inputs, mask_inputs
from app.catalog.forms import check_form
from app.errors import AppError
from app.identity.resident_id import make_valid

TODAY = date(2024, 5, 15)
ID_NUMBER = make_valid("37040219900101001")  # 370402199001010016


def doc_example() -> dict:
    text = (Path(__file__).parents[2] / "docs" / "service-forms.md").read_text(encoding="utf-8")
    return json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))


def form_of(**fields) -> dict:
    return {"type": "object", "properties": fields}


def one(field: dict) -> dict:
    """A form of one field, `a`, titled 甲."""
    return form_of(a={"title": "甲", **field})


def problems(schema: dict) -> dict[str, list[str]]:
    with pytest.raises(AppError) as caught:
        check_form(schema)
    assert caught.value.code == "INVALID_FORM" and caught.value.status == 422
    found: dict[str, list[str]] = {}
    for problem in caught.value.details["problems"]:
        found.setdefault(problem["path"], []).append(problem["problem"])
    return found


def field_errors(form: dict, inputs: dict) -> dict[str, list[str]]:
    with pytest.raises(AppError) as caught:
        check_inputs(form, inputs, today=TODAY)
    assert caught.value.code == "VALIDATION_FAILED" and caught.value.status == 422
    assert set(caught.value.details) == {"fields"}
    return caught.value.details["fields"]


# ---- the form ------------------------------------------------------------------------------------------------


def test_the_documented_example_is_accepted_and_normalised():
    example = doc_example()
    form = check_form(example)
    assert form["additionalProperties"] is False
    assert form["x-order"] == [*example["x-order"], "since", "plate"]
    assert form["properties"]["phone"]["pattern"] == "^1[3-9][0-9]{9}$"
    assert form["properties"]["since"]["format"] == "date"
    assert form["properties"]["amount"]["type"] == "integer"
    assert check_form(form) == form, "a stored form can be saved again unchanged"
    assert "additionalProperties" not in example, "the caller's dict is left as it was"


@pytest.mark.parametrize(
    "field",
    [
        {"title": "备注", "x-kind": "text"},
        {"title": "备注", "x-kind": "text", "minLength": 2, "maxLength": 200, "pattern": "^[A-Z]{2}-[0-9]{4,6}$"},
        {"title": "面积", "x-kind": "number", "minimum": 0.5, "maximum": 1000},
        {"title": "人数", "x-kind": "number", "type": "integer", "minimum": 1},
        {"title": "出生日期", "x-kind": "date", "format": "date", "x-min": "-100y", "x-max": "today"},
        {"title": "预约日期", "x-kind": "date", "x-min": "+1d", "x-max": "+6m"},
        {"title": "有效期起", "x-kind": "date", "x-min": "2000-01-01"},
        {"title": "类型", "x-kind": "choice", "enum": ["a", "b"], "x-labels": {"a": "甲", "b": "乙"}},
        {"title": "身份证号码", "x-kind": "resident_id", "description": "18 位"},
        {"title": "手机号码", "x-kind": "phone"},
        {"title": "户号", "x-kind": "account", "minLength": 10, "maxLength": 10},
    ],
)
def test_each_kind_is_accepted(field):
    form = check_form(form_of(value=field))
    assert form["properties"]["value"]["x-kind"] == field["x-kind"]
    assert form["properties"]["value"]["type"] in ("string", "number", "integer")


@pytest.mark.parametrize(
    ("schema", "path", "words"),
    [
        ({**one({"x-kind": "text"}), "$ref": "#/x"}, "/$ref", "$ref"),
        (
            {**one({"x-kind": "text"}), "additionalProperties": True},
            "/additionalProperties",
            "false",
        ),
        (one({"x-kind": "text", "$ref": "#/x"}), "/properties/a/$ref", "$ref"),
        (one({"x-kind": "text", "properties": {}}), "/properties/a/properties", "properties"),
        (one({"x-kind": "text", "type": "object"}), "/properties/a/type", "string"),
        (one({"x-kind": "text", "type": "array", "items": {}}), "/properties/a/items", "items"),
        (one({"x-kind": "number", "maxLength": 3}), "/properties/a/maxLength", "maxLength"),
        (one({"x-kind": "text", "maxLength": 201}), "/properties/a/maxLength", "200"),
        (one({"x-kind": "email"}), "/properties/a/x-kind", "text"),
        (form_of(a={"x-kind": "text"}), "/properties/a/title", "title"),
        (form_of(Name={"title": "甲", "x-kind": "text"}), "/properties/Name", "小写字母"),
        (one({"x-kind": "phone", "pattern": ".*"}), "/properties/a/pattern", "固定"),
        (
            one({"x-kind": "choice", "enum": ["x"], "x-labels": {"x": "X"}}),
            "/properties/a/enum",
            "2–50",
        ),
        (one({"x-kind": "choice", "enum": ["x", "y"]}), "/properties/a/x-labels", "x-labels"),
        (one({"x-kind": "date", "x-min": "yesterday"}), "/properties/a/x-min", "today"),
        (one({"x-kind": "account", "maxLength": 64}), "/properties/a/maxLength", "32"),
        (form_of(**{f"f{i}": {"title": "甲", "x-kind": "text"} for i in range(21)}), "/properties", "20"),
    ],
)
def test_constructs_outside_the_subset_are_refused_with_their_path(schema, path, words):
    found = problems(schema)
    assert path in found, found
    assert any(words in problem for problem in found[path]), found[path]


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(a+)+b", "嵌套"),
        ("(?:a?){5}", "嵌套"),
        ("(ab|cd)+", "|"),
        ("(a)\\1", "反向引用"),
        ("(?=a)b", "断言"),
        ("(?<!a)b", "断言"),
        ("(?i)abc", "内联标志"),
        ("(?P<n>a)", "命名分组"),
        ("\\Aabc", "锚点"),
        ("a++", "不支持"),
        ("a*b*c*d*", "3 个"),
        ("[a-", "无法解析"),
        ("x" * 201, "200"),
    ],
)
def test_unsafe_patterns_are_refused(pattern, words):
    found = problems(form_of(code={"title": "编号", "x-kind": "text", "pattern": pattern}))
    assert any(words in problem for problem in found["/properties/code/pattern"]), found


def test_every_problem_is_listed_at_once():
    found = problems(
        {
            "type": "object",
            "$ref": "#/x",
            "properties": {
                "size": {"title": "面积", "x-kind": "number", "minimum": 10, "maximum": 1},
                "kind": {"title": "类型", "x-kind": "choice", "enum": ["a", "b"], "x-labels": {"a": "甲", "c": "丙"}},
                "day": {"title": "日期", "x-kind": "date", "x-min": "today", "x-max": "-1d"},
                "old": {"title": "日期", "x-kind": "date", "x-min": "2023-02-30"},
                "code": {"title": "编号", "x-kind": "text", "pattern": "(a+)+"},
                "nested": {"title": "地址", "x-kind": "text", "properties": {"city": {}}},
            },
            "required": ["size", "city"],
            "x-order": ["town"],
        }
    )
    assert set(found) == {
        "/$ref",
        "/properties/size/maximum",
        "/properties/kind/x-labels",
        "/properties/day/x-max",
        "/properties/old/x-min",
        "/properties/code/pattern",
        "/properties/nested/properties",
        "/required/1",
        "/x-order/0",
    }
    assert len(found["/properties/kind/x-labels"]) == 2  # b has no label, c is no option


# ---- a citizen's answers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def form() -> dict:
    return check_form(doc_example())


GOOD = {"name": "张三", "id_number": ID_NUMBER, "account_no": "12345678", "purpose": "rent"}


def test_good_answers_come_back_cleaned(form):
    cleaned = check_inputs(
        form,
        {
            "name": "  张三 ",
            "id_number": f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}",
            "phone": "138 0013 8000",
            "account_no": " 12345678 ",
            "purpose": "rent",
            "amount": "3000",
            "since": "2001-07-01",
            "plate": "",
        },
        today=TODAY,
    )
    assert cleaned == {
        "name": "张三",
        "id_number": ID_NUMBER,
        "phone": "13800138000",
        "account_no": "12345678",
        "purpose": "rent",
        "amount": 3000,
        "since": "2001-07-01",
    }
    assert isinstance(cleaned["amount"], int)


def test_resident_id_x_is_upper_cased():
    number = make_valid("11010519491231002")  # ends in X
    assert number.endswith("X")
    form = check_form(form_of(idn={"title": "身份证号码", "x-kind": "resident_id"}))
    assert check_inputs(form, {"idn": number.lower()}, today=TODAY) == {"idn": number}


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ({"id_number": ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2")}, "id_number", "校验位"),
        ({"id_number": make_valid("37040220300101001")}, "id_number", "出生日期"),
        ({"id_number": "3704021990"}, "id_number", "17 位"),
        ({"phone": "12345678901"}, "phone", "手机号码"),
        ({"phone": "１３８００１３８０００"}, "phone", "手机号码"),  # full-width digits are not ASCII digits
        ({"amount": 500001}, "amount", "不能大于 500000"),
        ({"amount": "0"}, "amount", "不能小于 1"),
        ({"amount": 12.5}, "amount", "整数"),
        ({"amount": True}, "amount", "整数"),
        ({"amount": "三千"}, "amount", "整数"),
        ({"purpose": "gift"}, "purpose", "选项"),
        ({"purpose": 1}, "purpose", "选项"),
        ({"since": "2024-05-16"}, "since", "不能晚于 2024-05-15"),
        ({"since": "1964-05-14"}, "since", "不能早于 1964-05-15"),
        ({"since": "2024/01/01"}, "since", "2024-01-31"),
        ({"account_no": "1234"}, "account_no", "8–20"),
        ({"account_no": "1234-5678"}, "account_no", "字母或数字"),
        ({"plate": "京A12345"}, "plate", "格式"),
        ({"plate": "鲁D" + "1" * 300}, "plate", "200"),
        ({"name": "   "}, "name", "请填写"),
        ({"name": None}, "name", "请填写"),
        ({"nickname": "小张"}, "nickname", "没有此项"),
    ],
)
def test_wrong_answers_are_refused_per_field(form, answers, field, words):
    fields = field_errors(form, GOOD | answers)
    assert list(fields) == [field], fields
    assert any(words in message for message in fields[field]), fields


def test_every_wrong_answer_is_listed_at_once(form):
    fields = field_errors(form, {"name": "张三", "phone": "123", "amount": -1, "extra": 1})
    assert set(fields) == {"id_number", "account_no", "purpose", "phone", "amount", "extra"}
    assert fields["id_number"] == ["请填写此项"]


def test_answers_must_be_an_object(form):
    assert field_errors(form, ["张三"]) == {"_schema": ["应为对象"]}


def test_a_hostile_answer_against_a_permitted_pattern_is_quick():
    form = check_form(form_of(code={"title": "编号", "x-kind": "text", "pattern": "^[a-z]*[a-z]*[a-z]*$"}))
    started = time.perf_counter()
    field_errors(form, {"code": "a" * 199 + "!"})
    assert time.perf_counter() - started < 0.5


def test_phone_rule_is_the_login_rule():
    from app.catalog import forms
    from blueprints.auth.schemas import PHONE

    assert forms.PHONE == PHONE


# ---- the query history -------------------------------------------------------------------------------------


def test_history_masks_ids_phones_and_accounts(form):
    shown = mask_inputs(
        form,
        {
            "name": "张三",
            "id_number": ID_NUMBER,
            "phone": "13800138000",
            "account_no": "1234567890",
            "purpose": "rent",
            "dropped_since": "secret",
        },
    )
    assert shown == {
        "name": "张三",
        "id_number": "3704**********0016",
        "phone": "138****8000",
        "account_no": "******7890",
        "purpose": "rent",
    }


def test_a_four_character_account_is_masked_whole():
    form = check_form(form_of(acct={"title": "户号", "x-kind": "account"}))
    assert mask_inputs(form, {"acct": "AB12"}) == {"acct": "****"}
