"""The city services twin's guides to government procedures (办事指南): invented, but as a citizen would find them.

Field names are the portal's pinyin initials: sxbm 事项编码, sxmc 事项名称, ssbm 实施部门, sltj 受理条件,
sqcl 申请材料, cnsx/cnsxdw 承诺时限 and its unit, sfsf/sfje 是否收费 and the fee in yuan, bldd 办理地点,
wsbl 网上办理 (Y/N), gjc 关键词 (searched together with the name and the department).
"""

from __future__ import annotations

CENTRE = "枣庄市政务服务中心（市中区光明大道1号）"
POLICE_WINDOW = "户籍所在地派出所户籍窗口"


def _guide(code, name, department, conditions, materials, days, fee, where, online, keywords=""):
    return {
        "sxbm": code,
        "sxmc": name,
        "ssbm": department,
        "sltj": conditions,
        "sqcl": [{"clmc": material, "fs": 1} for material in materials],
        "cnsx": days,
        "cnsxdw": "即办" if days == 0 else "工作日",
        "sfsf": "是" if fee else "否",
        "sfje": f"{fee:.2f}",
        "bldd": where,
        "wsbl": "Y" if online else "N",
        "gjc": keywords,
    }


GUIDES = [
    _guide(
        "ZZ-GA-001", "居民身份证换领", "枣庄市公安局", "本市户籍居民，居民身份证有效期满或将于三个月内期满",
        ["原居民身份证", "居民户口簿"], 15, 20, POLICE_WINDOW, False, "身份证 到期 换证",
    ),
    _guide(
        "ZZ-GA-002", "居民身份证补领", "枣庄市公安局", "本市户籍居民，居民身份证丢失或损坏",
        ["居民户口簿", "损坏的居民身份证（损坏补领时）"], 15, 40, POLICE_WINDOW, False, "身份证 丢失 补办",
    ),
    _guide(
        "ZZ-GA-003", "户口迁移（市内迁移）", "枣庄市公安局", "在本市内购房、投靠亲属等符合落户条件",
        ["居民户口簿", "居民身份证", "房屋产权证明或亲属关系证明"], 0, 0, "迁入地派出所户籍窗口", True,
        "户籍 落户 迁户口",
    ),
    _guide(
        "ZZ-GA-004", "居住证办理", "枣庄市公安局", "在本市居住半年以上，有合法稳定就业、住所或连续就读",
        ["居民身份证", "近期免冠照片", "居住证明（租房合同或房产证明）"], 15, 0, "现居住地派出所", True, "外地 暂住",
    ),
    _guide(
        "ZZ-GA-005", "机动车驾驶证期满换证", "枣庄市公安局交通警察支队", "机动车驾驶证有效期满前九十日内",
        ["居民身份证", "机动车驾驶证", "身体条件证明"], 0, 10, "枣庄市车辆管理所或各交警大队车管服务站", True,
        "驾照 车管 交警",
    ),
    _guide(
        "ZZ-GJJ-001", "住房公积金提取（租房）", "枣庄市住房公积金管理中心",
        "职工本人及配偶在缴存地无自有住房且租房自住",
        ["居民身份证", "本人银行卡"], 0, 0, "枣庄市住房公积金管理中心各服务大厅", True, "公积金 租房 提取",
    ),
    _guide(
        "ZZ-GJJ-002", "住房公积金提取（退休）", "枣庄市住房公积金管理中心", "职工达到法定退休年龄并办理退休手续",
        ["居民身份证", "退休证明", "本人银行卡"], 0, 0, "枣庄市住房公积金管理中心各服务大厅", True, "公积金 退休 销户",
    ),
    _guide(
        "ZZ-BDC-001", "不动产登记（二手房转移登记）", "枣庄市自然资源和规划局", "买卖双方已签订存量房买卖合同并完税",
        ["买卖双方居民身份证", "不动产权证书", "存量房买卖合同", "完税凭证"], 5, 80, f"{CENTRE}不动产登记窗口",
        False, "房产证 过户 不动产",
    ),
    _guide(
        "ZZ-BDC-002", "不动产权证书补证", "枣庄市自然资源和规划局", "不动产权证书遗失并已登报或网上公告作废",
        ["权利人居民身份证", "遗失声明"], 10, 10, f"{CENTRE}不动产登记窗口", False, "房产证 丢失 补办",
    ),
    _guide(
        "ZZ-SP-001", "企业设立登记（营业执照）", "枣庄市行政审批服务局", "名称、住所、经营范围等符合登记规定",
        ["公司章程", "法定代表人居民身份证", "住所使用证明"], 1, 0, f"{CENTRE}企业开办专区", True,
        "营业执照 开公司 注册",
    ),
    _guide(
        "ZZ-SP-002", "个体工商户设立登记", "枣庄市行政审批服务局", "有经营能力的自然人，经营场所合法",
        ["经营者居民身份证", "经营场所使用证明"], 0, 0, f"{CENTRE}或所在镇街便民服务中心", True, "营业执照 个体户 开店",
    ),
    _guide(
        "ZZ-RS-001", "社会保障卡补办", "枣庄市人力资源和社会保障局", "社会保障卡丢失、损坏并已挂失",
        ["居民身份证"], 0, 0, "各合作银行网点社保卡即时制卡窗口", True, "社保卡 丢失 补卡",
    ),
    _guide(
        "ZZ-WJ-001", "生育登记", "枣庄市卫生和计划生育委员会", "夫妻双方依法登记结婚，生育子女",
        ["夫妻双方居民身份证", "结婚证"], 0, 0, "户籍地或现居住地镇（街道）卫生计生办", True, "生孩子 一孩 二孩 三孩",
    ),
    _guide(
        "ZZ-MZ-001", "内地居民结婚登记", "枣庄市民政局", "男女双方自愿结婚，达到法定婚龄，均无配偶",
        ["双方户口簿", "双方居民身份证", "双方近期半身免冠合影照片"], 0, 0, "各区（市）婚姻登记处", False,
        "结婚证 领证",
    ),
    _guide(
        "ZZ-MZ-002", "老年人优待证办理", "枣庄市民政局", "本市户籍或常住的六十周岁以上老年人",
        ["居民身份证", "近期免冠照片"], 5, 0, "户籍所在地镇（街道）便民服务中心", True, "老年证 敬老",
    ),
    _guide(
        "ZZ-YB-001", "城乡居民基本医疗保险参保登记", "枣庄市医疗保障局", "未参加职工医保的本市城乡居民",
        ["居民身份证或户口簿"], 0, 0, "户籍所在地镇（街道）便民服务中心", True, "医保 参保 新生儿",
    ),
]  # fmt: skip


def search(keyword: str) -> list[dict]:
    """Guides whose name, department or keywords contain the keyword, in the portal's order."""
    return [g for g in GUIDES if keyword in g["sxmc"] or keyword in g["ssbm"] or keyword in g["gjc"]]
