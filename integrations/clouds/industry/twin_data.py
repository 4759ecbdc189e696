"""The industry twin's subsidy applications (工业和信息化专项资金): enterprises, projects, and the nodes each
application has passed. One is fixed (the demo's); any other number not ending in 0 is derived from a hash of
it. Days count back from today, so an application is always somewhere plausible in its course."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
# node_code → node_name, in the order an application passes them; 99 ends it anywhere after 01.
NODES = {
    "01": "企业网上申报",
    "02": "区（市）工信部门初审",
    "03": "市级专家评审",
    "04": "拟支持项目公示",
    "05": "资金计划批复下达",
    "06": "专项资金拨付",
}
REJECTED = ("99", "审核未通过")
ENTERPRISES = [
    "枣庄鲁南精工机械有限公司",
    "滕州市恒通数控机床有限公司",
    "山东薛城化工新材料有限公司",
    "枣庄市峄城石榴深加工有限公司",
    "台儿庄区运河纺织科技有限公司",
    "山亭区绿源新能源科技有限公司",
]
PROJECTS = [
    "数控机床智能化生产线技术改造项目",
    "锂电池隔膜生产线数字化车间建设项目",
    "化工装置安全环保提升改造项目",
    "石榴饮品生产线自动化改造项目",
    "纺织印染设备节能改造项目",
    "光伏组件智能工厂建设项目",
]
OPINIONS = {
    "01": "申报材料已提交",
    "02": "材料齐全，符合申报条件，同意推荐",
    "03": "专家评审通过",
    "04": "公示期5个工作日，公示期内无异议",
    "05": "已列入年度专项资金计划",
    "06": "资金已拨付至企业账户",
}
FIXED = {"JG2026000123": (0, 0, "120.0000", 4, False)}  # enterprise, project, 万元, nodes reached, rejected


def application(number: str, today: date) -> dict | None:
    if number.endswith("0"):
        return None
    seed = int(hashlib.sha256(number.encode()).hexdigest()[:12], 16)
    enterprise, project, amount, reached, rejected = FIXED.get(number) or (
        seed % len(ENTERPRISES),
        (seed >> 4) % len(PROJECTS),
        f"{50 + (seed >> 8) % 250}.{(seed >> 16) % 10}000",
        1 + (seed >> 20) % 6,
        (seed >> 24) % 7 == 0,
    )
    rejected = rejected and 2 <= reached <= 4  # only the reviews refuse: the district's, the experts', publicity
    codes = list(NODES)[:reached]
    if rejected:
        codes = [*codes[:-1], REJECTED[0]]
    # The first node lies some weeks back; each later one ten or so days after the one before.
    day = today - timedelta(days=12 * len(codes) - 5 + seed % 5)
    nodes = []
    for index, code in enumerate(codes):
        moment = datetime.combine(day, time(9 + index % 7, 15 + index * 7 % 40), BEIJING)
        name = REJECTED[1] if code == REJECTED[0] else NODES[code]
        opinion = "项目技术先进性不足，未通过评审" if code == REJECTED[0] else OPINIONS[code]
        nodes.append({"node_code": code, "node_name": name, "finish_time": int(moment.timestamp()), "opinion": opinion})
        day += timedelta(days=10 + (seed >> index) % 4)
    approved = None
    if reached >= 4 and not rejected:  # the city's review sets what it will support: about four fifths
        approved = f"{float(amount) * 0.8:.4f}"
    return {
        "apply_no": number,
        "enterprise_name": ENTERPRISES[enterprise],
        "project_name": PROJECTS[project],
        "apply_amount_wan": amount,
        "approved_amount_wan": approved,
        "current_node": codes[-1],
        "nodes": nodes,
    }
