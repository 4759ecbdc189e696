"""Service input forms: a JSON Schema subset the mini-program can render (docs/service-forms.md).

`check_form` refuses anything outside the subset when a service is saved; app/catalog/form_inputs.py
checks what a citizen typed against a stored form and masks it for their query history.
The subset itself is one declarative document, FORM_META_SCHEMA; the few rules JSON Schema cannot say
(a regex that is safe, names that exist, bounds in order) are in `_further_problems`.
"""

from __future__ import annotations

import copy
import functools
import re
import re._parser as sre_parse  # the stdlib's own regex parser: the only exact reading of a pattern
from datetime import date, timedelta

from jsonschema import Draft202012Validator, ValidationError

from app.clock import local, utcnow
from app.errors import AppError

KINDS = ("text", "number", "date", "choice", "resident_id", "phone", "account")
MAX_FIELDS, MAX_TEXT, MAX_VARIABLE_QUANTIFIERS = 20, 200, 3
# The same rule as blueprints/auth/schemas.py PHONE (a test holds them equal).
PHONE = "^1[3-9][0-9]{9}$"
RESIDENT_ID = "^[0-9]{17}[0-9X]$"
ACCOUNT = "^[0-9A-Za-z]{4,32}$"
RELATIVE_DATE = "^(today|[+-][0-9]{1,3}[dmy]|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
# What normalisation fills in when the author leaves it out; the meta-schema allows exactly these values.
_FILLED = {
    "text": {"type": "string", "maxLength": MAX_TEXT},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "choice": {"type": "string"},
    "resident_id": {"type": "string", "pattern": RESIDENT_ID},
    "phone": {"type": "string", "pattern": PHONE},
    "account": {"type": "string", "pattern": ACCOUNT},
}


def _length(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


_COMMON = {
    "title": {"type": "string", "minLength": 1, "maxLength": 30, "x-problem": "标题为 1–30 个字的中文名称"},
    "description": {"type": "string", "maxLength": 200, "x-problem": "帮助文字最多 200 个字"},
}
_PER_KIND = {
    "text": {
        "type": {"const": "string"},
        "minLength": _length(0, MAX_TEXT),
        "maxLength": _length(1, MAX_TEXT),
        "pattern": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "number": {"type": {"enum": ["number", "integer"]}, "minimum": {"type": "number"}, "maximum": {"type": "number"}},
    "date": {
        "type": {"const": "string"},
        "format": {"const": "date"},
        "x-min": {"type": "string", "pattern": RELATIVE_DATE, "x-problem": "应为 today、-100y、+30d 或 2000-01-01"},
        "x-max": {"type": "string", "pattern": RELATIVE_DATE, "x-problem": "应为 today、-100y、+30d 或 2000-01-01"},
    },
    "choice": {
        "type": {"const": "string"},
        "enum": {
            "type": "array",
            "minItems": 2,
            "maxItems": 50,
            "uniqueItems": True,
            "items": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{1,32}$",
                "x-problem": "选项值为 1–32 位字母、数字、_ 或 -",
            },
            "x-problem": "选项为 2–50 个不重复的值",
        },
        "x-labels": {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 30},
            "x-problem": "x-labels 为 {选项值: 显示名称}",
        },
    },
    "resident_id": {"type": {"const": "string"}, "pattern": {"const": RESIDENT_ID}},
    "phone": {"type": {"const": "string"}, "pattern": {"const": PHONE}},
    "account": {
        "type": {"const": "string"},
        "pattern": {"const": ACCOUNT},
        "minLength": _length(4, 32),
        "maxLength": _length(4, 32),
    },
}
_REQUIRED_PER_KIND = {"choice": ["enum", "x-labels"]}

FORM_META_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "service input form (the subset the mini-program renders)",
    "type": "object",
    "required": ["type", "properties"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "object"},
        "properties": {
            "type": "object",
            # No fields at all is a form too: "my own records", answered from the verified identity.
            "maxProperties": MAX_FIELDS,
            "x-problem": f"表单最多 {MAX_FIELDS} 个字段",
            "propertyNames": {
                "pattern": "^[a-z][a-z0-9_]{0,31}$",
                "x-problem": "字段名为小写字母开头的小写字母、数字或下划线，最长 32 位",
            },
            "additionalProperties": {"$ref": "#/$defs/field"},
        },
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "x-order": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "additionalProperties": {"const": False},
    },
    "$defs": {
        "field": {
            "type": "object",
            "required": ["title", "x-kind"],
            "properties": {"x-kind": {"enum": list(KINDS), "x-problem": "x-kind 应为 " + "、".join(KINDS) + " 之一"}},
            "allOf": [
                {
                    "if": {"required": ["x-kind"], "properties": {"x-kind": {"const": kind}}},
                    "then": {
                        "additionalProperties": False,
                        "required": _REQUIRED_PER_KIND.get(kind, []),
                        "properties": {**_COMMON, "x-kind": {"const": kind}, **keywords},
                    },
                }
                for kind, keywords in _PER_KIND.items()
            ],
        }
    },
}
_META = Draft202012Validator(FORM_META_SCHEMA)


def check_form(schema: dict) -> dict:
    """The form normalised (additionalProperties false, x-order complete, implied keywords written out),
    or 422 INVALID_FORM listing every problem at once as {path (a JSON Pointer into the form), problem}."""
    problems = [*_meta_problems(schema), *_further_problems(schema)]
    if problems:
        unique = list({(p["path"], p["problem"]): p for p in problems}.values())
        raise AppError("INVALID_FORM", "输入表单不符合规范，请按提示修改", 422, {"problems": unique})
    form = copy.deepcopy(schema)
    fields = form["properties"]
    for field in fields.values():
        for keyword, value in _FILLED[field["x-kind"]].items():
            field.setdefault(keyword, value)
    form["required"] = form.get("required", [])
    order = form.get("x-order", [])
    form["x-order"] = order + [name for name in fields if name not in order]
    form["additionalProperties"] = False
    return form


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _meta_problems(schema) -> list[dict]:
    problems = []
    for error in _META.iter_errors(schema):
        path = list(error.absolute_path)
        if "propertyNames" in error.schema_path:
            path.append(error.instance)
        if error.validator == "additionalProperties":
            kind = error.instance.get("x-kind")
            where = f"{kind} 类型的字段" if "x-kind" in error.schema.get("properties", {}) else "表单顶层"
            for extra in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                problems.append({"path": _pointer([*path, extra]), "problem": f"{where}不支持关键字 {extra}"})
        elif error.validator == "required":
            for missing in error.validator_value:
                if missing not in error.instance:
                    problems.append({"path": _pointer([*path, missing]), "problem": f"缺少 {missing}"})
        else:
            problems.append({"path": _pointer(path), "problem": _meta_message(error)})
    return problems


def _meta_message(error: ValidationError) -> str:
    if "x-problem" in error.schema:
        return error.schema["x-problem"]
    value = error.validator_value
    if error.validator == "const" and error.absolute_path and error.absolute_path[-1] == "pattern":
        return "这类字段的格式是固定的，不能自定义 pattern"
    if error.validator == "const":
        return f"应为 {value!r}".replace("'", '"').replace("False", "false")
    if error.validator == "enum":
        return "应为 " + "、".join(map(str, value)) + " 之一"
    if error.validator == "type":
        return {"object": "应为对象", "array": "应为数组", "string": "应为文字", "integer": "应为整数"}.get(
            value, "类型不对"
        )
    return {
        "minimum": f"不能小于 {value}",
        "maximum": f"不能大于 {value}",
        "minLength": f"至少 {value} 个字",
        "maxLength": f"最多 {value} 个字",
        "uniqueItems": "不能有重复项",
    }.get(error.validator, error.message)


def _further_problems(schema) -> list[dict]:
    """What JSON Schema cannot say. Reads defensively: the meta-schema may have refused the same form."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return []
    fields, problems = schema["properties"], []
    for keyword in ("required", "x-order"):
        names = schema.get(keyword)
        for i, name in enumerate(names if isinstance(names, list) else []):
            if isinstance(name, str) and name not in fields:
                problems.append({"path": f"/{keyword}/{i}", "problem": f"没有名为 {name} 的字段"})
    for name, field in fields.items():
        if isinstance(field, dict):
            for keyword, problem in _field_problems(field):
                problems.append({"path": _pointer(["properties", name, keyword]), "problem": problem})
    return problems


def _field_problems(field: dict):
    low, high = ("minimum", "maximum") if field.get("x-kind") == "number" else ("minLength", "maxLength")
    if _is_number(field.get(low)) and _is_number(field.get(high)) and field[low] > field[high]:
        yield high, f"{high} 不能小于 {low}"
    if field.get("x-kind") == "text" and isinstance(field.get("pattern"), str):
        problem = _pattern_problem(field["pattern"])
        if problem:
            yield "pattern", problem
    if field.get("x-kind") == "date":
        bounds = {}
        for keyword in ("x-min", "x-max"):
            if isinstance(field.get(keyword), str) and re.fullmatch(RELATIVE_DATE, field[keyword]):
                try:
                    bounds[keyword] = resolve_date(field[keyword], local(utcnow()).date())
                except ValueError:
                    yield keyword, "不是真实的日期"
        if len(bounds) == 2 and bounds["x-min"] > bounds["x-max"]:
            yield "x-max", "x-max 不能早于 x-min"
    if (
        field.get("x-kind") == "choice"
        and isinstance(field.get("enum"), list)
        and isinstance(field.get("x-labels"), dict)
    ):
        values, labels = [v for v in field["enum"] if isinstance(v, str)], field["x-labels"]
        for value in values:
            if value not in labels:
                yield "x-labels", f"选项 {value} 缺少显示名称"
        for value in labels:
            if value not in values:
                yield "x-labels", f"{value} 不是 enum 中的选项"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Regex operations both Python and the mini-program's JavaScript read the same way, and that cannot
# backtrack without bound: no backreferences, lookaround, atomic groups, inline flags or named groups.
_SAFE_OPS = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "AT", "BRANCH", "SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT"}
_UNSAFE = {
    "GROUPREF": "正则表达式不能使用反向引用",
    "GROUPREF_EXISTS": "正则表达式不能使用条件分组",
    "ASSERT": "正则表达式不能使用 (?=…)、(?<=…) 等断言",
    "ASSERT_NOT": "正则表达式不能使用 (?!…)、(?<!…) 等断言",
}
_SAFE_ANCHORS = {"AT_BEGINNING", "AT_END", "AT_BOUNDARY", "AT_NON_BOUNDARY"}


def _pattern_problem(pattern: str) -> str | None:
    try:
        parsed = sre_parse.parse(pattern, re.ASCII)
        compiled_pattern(pattern)
    except re.error as error:
        return f"正则表达式无法解析：{error.msg}"
    if parsed.state.flags & ~re.ASCII or parsed.state.groupdict:
        return "正则表达式不能使用内联标志或命名分组"
    problems: list[str] = []
    variable = _walk(parsed.data, repeated=False, problems=problems)
    if not problems and variable > MAX_VARIABLE_QUANTIFIERS:
        problems.append(f"正则表达式最多 {MAX_VARIABLE_QUANTIFIERS} 个可变量词（?、*、+、{{m,n}}）")
    return problems[0] if problems else None


def _walk(items, *, repeated: bool, problems: list[str]) -> int:
    """Count variable quantifiers; note the first unsafe construct. `repeated`: inside a quantifier that repeats."""
    variable = 0
    for op, av in items:
        name = op.name
        if name not in _SAFE_OPS:
            problems.append(_UNSAFE.get(name, "正则表达式用了不支持的写法（原子分组或占有量词）"))
        elif name == "AT" and av.name not in _SAFE_ANCHORS:
            problems.append("正则表达式只能用 ^ 和 $ 作为锚点")
        elif name == "BRANCH":
            if repeated:
                problems.append("正则表达式的重复分组里不能用 |，请改用字符类如 [ab]")
            for branch in av[1]:
                variable += _walk(branch, repeated=repeated, problems=problems)
        elif name == "SUBPATTERN":
            if av[1] or av[2]:
                problems.append("正则表达式不能使用内联标志")
            variable += _walk(av[3], repeated=repeated, problems=problems)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = av
            if repeated and low != high:
                problems.append("正则表达式不能嵌套可变量词，如 (a+)+")
            variable += (low != high) + _walk(body, repeated=repeated or high > 1, problems=problems)
    return variable


def resolve_date(bound: str, today: date) -> date:
    """'today', '-100y', '+30d', '-6m' relative to today, or an ISO date. ValueError if no such day."""
    if bound == "today":
        return today
    if bound[0] not in "+-":
        return date.fromisoformat(bound)
    amount, unit = int(bound[:-1]), bound[-1]
    if unit == "d":
        return today + timedelta(days=amount)
    months = today.year * 12 + today.month - 1 + (amount * 12 if unit == "y" else amount)
    year, month = divmod(months, 12)
    for day in (today.day, 30, 29, 28):  # 29 February a year on, or 31 March a month back: the month's last day
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise ValueError(bound)


@functools.lru_cache(maxsize=512)
def compiled_pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.ASCII)  # as in JavaScript, \d and \w mean ASCII digits and letters only
