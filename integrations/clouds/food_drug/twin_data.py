"""The food and drug twin's records: business licences and recall notices, invented but steady.

A few licences are fixed (the demo's); any other well-formed number not ending in 0 is derived from a hash
of the number, so the same number always reads the same. Legal representatives are the sandbox's invented
people (integrations/clouds/sharing/sandbox.py), nobody else.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES

# 经营项目 as the licence prints them, per kind of licence.
FOOD_ITEMS = {
    "1": ["预包装食品销售（含冷藏冷冻食品）", "散装食品销售（不含冷藏冷冻食品）", "保健食品销售"],
    "2": ["热食类食品制售", "冷食类食品制售", "自制饮品制售"],
    "3": ["热食类食品制售（单位食堂）"],
}
DRUG_ITEMS = {
    "A": ["化学药制剂", "抗生素制剂", "中成药", "中药饮片", "生物制品（除疫苗）"],
    "B": ["处方药", "甲类非处方药", "乙类非处方药", "中药饮片"],
}
STREETS = ["光明大道", "君山中路", "文化东路", "华山北路", "振兴路", "建设中路", "解放北路", "龙头路"]
DISTRICTS = {"370402": "市中区", "370403": "薛城区", "370404": "峄城区", "370405": "台儿庄区", "370406": "山亭区"}
PEOPLE = [person["name"] for person in (*DEMO_CITIZENS, *DEMO_RELATIVES) if len(person["name"]) == 2]

# zt: 1 有效, 2 注销, 3 吊销 (the licence system stores revocation and cancellation apart; both end it).
FIXED_LICENCES = {
    "JY13704020012345": {
        "jyzmc": "枣庄市市中区惠民便利超市",
        "fddbr": "张伟",
        "jycs": "山东省枣庄市市中区光明大道188号",
        "fzrq": "2023-06-18",
        "yxqz": "2028-06-17",
        "zt": "1",
    },
    "JY23704050023457": {
        "jyzmc": "台儿庄古城运河人家餐饮有限公司",
        "fddbr": "刘洋",
        "jycs": "山东省枣庄市台儿庄区古城西门大街26号",
        "fzrq": "2019-04-02",
        "yxqz": "2024-04-01",
        "zt": "1",
    },
    "鲁AA6320123": {
        "jyzmc": "枣庄鲁南康源医药有限公司",
        "fddbr": "王芳",
        "jycs": "山东省枣庄市薛城区振兴路56号",
        "fzrq": "2022-09-30",
        "yxqz": "2027-09-29",
        "zt": "1",
    },
    "鲁BD6320457": {
        "jyzmc": "枣庄市峄城区仁和大药房",
        "fddbr": "李娜",
        "jycs": "山东省枣庄市峄城区坛山路9号",
        "fzrq": "2021-03-15",
        "yxqz": "2026-03-14",
        "zt": "3",
    },
}


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def licence(number: str) -> dict | None:
    """The licence as the twin stores it (pinyin field names, dates yyyy-MM-dd), or None when it has none."""
    if number.endswith("0"):
        return None
    drug = not number.startswith("JY")
    row = FIXED_LICENCES.get(number) or _derived(number, drug)
    if drug:
        kind, items = ("YPPF", DRUG_ITEMS["A"]) if number[2] == "A" else ("YPLS", DRUG_ITEMS["B"])
    else:
        kind, items = "SPJY", FOOD_ITEMS.get(number[2], FOOD_ITEMS["1"])
    return {"xkzbh": number, "xkzlx": kind, "jyxm": "；".join(items), **row}


def _derived(number: str, drug: bool) -> dict:
    seed = _seed(number)
    district = list(DISTRICTS)[seed % len(DISTRICTS)]
    issued = date(2020, 1, 1) + timedelta(days=seed % 2000)
    leap_day = (issued.month, issued.day) == (2, 29)
    ends = issued.replace(year=issued.year + 5, day=28 if leap_day else issued.day)  # five years
    name = "大药房" if drug else ("餐饮店" if number[2] == "2" else "食品商行")
    shop = ["鑫源", "福润", "惠康", "万家", "德顺", "和美"][(seed >> 4) % 6]
    return {
        "jyzmc": f"枣庄市{DISTRICTS[district]}{shop}{name}",
        "fddbr": PEOPLE[(seed >> 8) % len(PEOPLE)],
        "jycs": f"山东省枣庄市{DISTRICTS[district]}{STREETS[(seed >> 12) % len(STREETS)]}{1 + seed % 300}号",
        "fzrq": issued.isoformat(),
        "yxqz": (ends - timedelta(days=1)).isoformat(),
        "zt": "2" if seed % 13 == 0 else "1",
    }


# Recall notices: (days before today, category, product, producer, batch, reason, level 1-3).
RECALLS = [
    (2, "SP", "原味风干牛肉干 200g", "山东鲁南福源食品有限公司", "20260112A", "菌落总数超标", 2),
    (5, "YP", "复方甘草片", "枣庄康华制药有限公司", "250903", "含量测定不符合规定", 2),
    (9, "YLQX", "一次性使用无菌注射器 5ml", "山东益康医疗器械有限公司", "YK2508112", "包装密封性不符合要求", 3),
    (13, "SP", "手工挂面 1kg", "滕州市麦香园食品厂", "20251201", "标签未标示过敏原信息", 3),
    (18, "YP", "头孢克肟分散片", "山东齐鲁安泰药业有限公司", "B250622", "溶出度不符合规定", 1),
    (24, "SP", "石榴汁饮料 1L", "峄城石榴园饮品有限公司", "20251118", "防腐剂苯甲酸超范围使用", 2),
    (31, "YLQX", "电子血压计 BP-200", "枣庄康宁电子科技有限公司", "2507", "示值误差超出允许范围", 3),
    (38, "SP", "速冻水饺（猪肉白菜）", "枣庄市鲁味冷冻食品有限公司", "20251020", "检出非洲猪瘟病毒核酸", 1),
    (46, "YP", "板蓝根颗粒", "山东鲁南中药饮片有限公司", "250518", "水分不符合规定", 3),
    (53, "SP", "辣条（调味面制品）", "台儿庄区乐香食品厂", "20250930", "甜蜜素超标", 2),
    (61, "YLQX", "医用外科口罩", "山亭区安康卫生材料有限公司", "20250801", "细菌过滤效率不合格", 2),
    (70, "SP", "散装豆腐皮", "薛城区豆香源食品加工坊", "20250912", "检出碱性嫩黄", 1),
    (84, "YP", "维生素C片", "枣庄恒瑞康药业有限公司", "250401", "性状不符合规定", 3),
]


def recalls(category: str | None, today: date) -> list[dict]:
    """Newest first, as the recall system lists them."""
    rows = []
    for index, (days_ago, kind, product, producer, batch, reason, level) in enumerate(RECALLS):
        if category and kind != category:
            continue
        published = today - timedelta(days=days_ago)
        rows.append(
            {
                "ggbh": f"ZZSYJ-ZH-{published:%Y}-{len(RECALLS) - index:03d}",
                "cplb": kind,
                "cpmc": product,
                "scqy": producer,
                "scph": batch,
                "zhyy": reason,
                "zhjb": level,
                "fbrq": published.isoformat(),
            }
        )
    return rows
