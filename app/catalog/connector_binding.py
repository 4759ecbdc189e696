"""The go-live checks of a service bound to a built-in connector operation."""

from __future__ import annotations


def connector_problems(content: dict, binding: dict, department_code: str) -> list[str]:
    from app.connectors.service import built

    target = built(binding["connector"])
    if target is None:
        return ["binding.connector: 没有这个已启用的连接器"]
    if target.department_code not in (None, department_code):
        return ["binding.connector: 只能绑定本部门的连接器"]
    op = target.connector.operations.get(binding["operation"])
    if op is None or op.internal:
        return ["binding.operation: 连接器没有这个操作"]
    problems = []
    if op.identity and not content.get("real_name_required"):
        problems.append("real_name_required: 此操作查询本人记录，须要求实名认证")
    fields = op.inputs().fields
    properties = (content.get("form") or {}).get("properties") or {}
    missing = [name for name, field in fields.items() if field.required and name not in properties]
    unknown = [name for name in properties if name not in fields]
    problems += [f"form.{name}: 连接器需要此输入" for name in missing]
    problems += [f"form.{name}: 连接器不接受此输入" for name in unknown]
    if binding.get("allow_stale") and not op.stale_seconds:
        problems.append("binding.allow_stale: 此操作的数据过时即失去意义，不能展示过期结果")
    return problems
