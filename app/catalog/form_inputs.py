"""A citizen's answers to a service's form: checked against the stored form (app/catalog/forms.py)
and masked for their query history."""

from __future__ import annotations

import math
import re
from datetime import date

from jsonschema import Draft202012Validator, ValidationError, validators

from app.catalog.forms import MAX_TEXT, compiled_pattern, resolve_date
from app.clock import local, utcnow
from app.errors import HTTP_ERRORS, AppError
from app.identity import resident_id
from app.security.pii import mask_id_number, mask_phone


def _ascii_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not compiled_pattern(pattern).search(instance):
        yield ValidationError(f"does not match {pattern!r}")


_InputValidator = validators.extend(Draft202012Validator, {"pattern": _ascii_pattern})
_NUMBER = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?", re.ASCII)
_ID_REASONS = {
    "format": "身份证号码应为 18 位",
    "checksum": "身份证号码校验位不正确，请核对",
    "birth_date": "身份证号码中的出生日期不正确",
    "region": "身份证号码中的地区码不正确",
}
_TYPE_MESSAGES = {
    "number": "请输入数字",
    "integer": "请输入整数",
    "date": "日期应写作 2024-01-31",
    "choice": "请从给出的选项中选择",
}
_PATTERN_MESSAGES = {
    "resident_id": "身份证号码应为 17 位数字加 1 位数字或 X",
    "phone": "请输入正确的 11 位手机号码",
    "account": "应为 {low}–{high} 位字母或数字",
    "text": "格式不正确",
}


def check_inputs(form: dict, inputs: dict, *, today: date | None = None) -> dict:
    """The citizen's inputs cleaned (strings stripped, numbers as numbers, ID numbers normalised), or 422
    VALIDATION_FAILED with {"fields": {name: [problems in Chinese]}} like every other validation error."""
    if not isinstance(inputs, dict):
        raise AppError("VALIDATION_FAILED", HTTP_ERRORS[422][1], 422, {"fields": {"_schema": ["应为对象"]}})
    today = today or local(utcnow()).date()
    fields = form["properties"]
    cleaned, problems = {}, {}
    for name, value in inputs.items():
        value = _clean(fields[name], value) if name in fields else value
        if name in fields and isinstance(value, str) and len(value) > MAX_TEXT:
            problems[name] = [f"最多 {MAX_TEXT} 个字"]  # an overlong answer never reaches a regex
        elif value is not None:
            cleaned[name] = value
    found: dict[str, list[tuple[str, str]]] = {}
    for error in _validator_for(form).iter_errors(cleaned):
        for name, message in _input_messages(form, error):
            found.setdefault(name, []).append((error.validator, message))
    for name, messages in found.items():
        # A wrong type makes every other check of that answer noise: say only that.
        wrong_type = [m for validator, m in messages if validator == "type"]
        if name not in problems:
            problems[name] = list(dict.fromkeys(wrong_type or [m for _, m in messages]))
    for name, value in cleaned.items():
        if name in fields and name not in problems:
            message = _kind_problem(fields[name], value, today)
            if message:
                problems[name] = [message]
    if problems:
        raise AppError("VALIDATION_FAILED", HTTP_ERRORS[422][1], 422, {"fields": problems})
    return {name: value for name, value in cleaned.items() if name in fields}


# Validators of the forms seen lately, by the identity of the form: a live service's form is one object per
# catalog generation (app/inquiry/run.py), and building a validator costs as much as using it.
_validators: dict[int, tuple[dict, Draft202012Validator]] = {}
_KEPT_VALIDATORS = 256


def _validator_for(form: dict):
    kept = _validators.get(id(form))
    if kept is not None and kept[0] is form:
        return kept[1]
    validator = _InputValidator(form, format_checker=Draft202012Validator.FORMAT_CHECKER)
    if len(_validators) >= _KEPT_VALIDATORS:
        _validators.clear()  # old generations' forms: rebuilt when next asked
    _validators[id(form)] = (form, validator)
    return validator


def _clean(field: dict, value):
    kind = field["x-kind"]
    if isinstance(value, str):
        # IDs, phones and account numbers are pasted with spaces ("3704 0219 ..."); those are no part of them.
        value = resident_id.normalise(value) if kind == "resident_id" else value.strip()
        if kind in ("phone", "account"):
            value = "".join(value.split())
        if value == "":
            return None  # an empty box is a missing answer: "required" says so, an optional one is left out
        if kind == "number" and _NUMBER.fullmatch(value):
            value = float(value) if "." in value else int(value)
    if kind == "number" and isinstance(value, float) and value.is_integer() and field.get("type") == "integer":
        value = int(value)
    return value


def _input_messages(form: dict, error: ValidationError):
    if error.validator == "required":
        for name in error.validator_value:
            if name not in error.instance:
                yield name, "请填写此项"
        return
    if error.validator == "additionalProperties":
        for name in error.instance:
            if name not in form["properties"]:
                yield name, "表单中没有此项"
        return
    name = error.absolute_path[0] if error.absolute_path else "_schema"
    field, value = form["properties"].get(name, {}), error.validator_value
    kind = field.get("x-kind")
    message = {
        "type": _TYPE_MESSAGES.get(value if kind == "number" else kind, "请输入文字"),
        "minimum": f"不能小于 {value}",
        "maximum": f"不能大于 {value}",
        "minLength": f"至少 {value} 个字",
        "maxLength": f"最多 {value} 个字",
        "enum": "请从给出的选项中选择",
        "format": "日期应写作 2024-01-31",
        "pattern": _PATTERN_MESSAGES.get(kind, "格式不正确").format(
            low=field.get("minLength", 4), high=field.get("maxLength", 32)
        ),
    }.get(error.validator, "格式不正确")
    if kind == "account" and error.validator in ("minLength", "maxLength"):
        message = _PATTERN_MESSAGES["account"].format(low=field.get("minLength", 4), high=field.get("maxLength", 32))
    yield name, message


def _kind_problem(field: dict, value, today: date) -> str | None:
    kind = field["x-kind"]
    if kind == "number" and not math.isfinite(value):  # Python's JSON reader lets NaN and Infinity in
        return _TYPE_MESSAGES["number"]
    if kind == "resident_id":
        try:
            resident_id.validate(value, today=today)
        except resident_id.InvalidResidentId as error:
            return _ID_REASONS[error.reason]
    if kind == "date":
        day = date.fromisoformat(value)
        if "x-min" in field and day < resolve_date(field["x-min"], today):
            return f"不能早于 {resolve_date(field['x-min'], today).isoformat()}"
        if "x-max" in field and day > resolve_date(field["x-max"], today):
            return f"不能晚于 {resolve_date(field['x-max'], today).isoformat()}"
    return None


def mask_inputs(form: dict, inputs: dict) -> dict:
    """Inputs as a citizen's query history shows them: ID numbers, phones and accounts masked.
    A field the form no longer has is left out: nothing says how much of it is safe to show."""
    shown = {}
    for name, value in inputs.items():
        kind = form["properties"].get(name, {}).get("x-kind")
        if kind is None:
            continue
        if kind == "resident_id":
            value = mask_id_number(str(value))
        elif kind == "phone":
            value = mask_phone(str(value))
        elif kind == "account":
            value = mask_account(str(value))
        shown[name] = value
    return shown


def mask_account(account: str) -> str:
    """Only the last 4 characters, and none of an account that short."""
    return "*" * len(account) if len(account) <= 4 else "*" * (len(account) - 4) + account[-4:]
