"""The medical twin's registry: the demo city's hospitals (zaozhuang.json) with what their platform adds:
grade, address, switchboard, department codes and rooms, and each department's doctors.

Invented but plausible and fixed: doctors' names are drawn from a hash of hospital and department, so the
same department always lists the same people.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

# HospitalCode → (grade, address, switchboard)
HOSPITALS = {
    "zzslyy": ("三级甲等", "枣庄市市中区振兴路41号", "0632-3231234"),
    "zzszyyy": ("三级甲等", "枣庄市市中区青檀北路133号", "0632-3262345"),
    "zzsfybjy": ("三级", "枣庄市市中区文化东路27号", "0632-3283456"),
    "tzszxrmyy": ("三级甲等", "滕州市北辛中路181号", "0632-5514567"),
}
# The platform's department code (pinyin initials), and what it treats: one specialty per doctor, the first
# a 主任医师, the second a 副主任医师, the rest 主治医师.
DEPARTMENTS = {
    "内科": ("NK", "高血压、冠心病|糖尿病、甲状腺疾病|消化性溃疡|慢阻肺|慢性肾病|风湿免疫病|老年多病共存"),
    "外科": ("WK", "胆囊结石、疝气|甲状腺、乳腺肿瘤|泌尿系结石|腹腔镜微创手术"),
    "儿科": ("EK", "小儿呼吸道感染|小儿腹泻、营养不良|儿童哮喘|新生儿黄疸随访"),
    "妇产科": ("FCK", "高危妊娠管理|子宫肌瘤、卵巢囊肿|月经不调|产后康复"),
    "眼科": ("YK", "白内障|青光眼|儿童近视、斜弱视|眼底病"),
    "口腔科": ("KQK", "牙体牙髓病|口腔修复、种植|儿童牙病|牙周病"),
    "皮肤科": ("PFK", "湿疹、荨麻疹|痤疮|银屑病|带状疱疹"),
    "中医科": ("ZYK", "脾胃病|失眠、眩晕|慢性咳嗽|亚健康调理"),
    "针灸推拿科": ("ZJTNK", "颈肩腰腿痛|面瘫|中风后遗症|小儿推拿"),
    "中医内科": ("ZYNK", "脾胃病|心脑血管病|肝胆病|肾病"),
    "骨伤科": ("GSK", "骨折手法复位|腰椎间盘突出|骨关节炎|运动损伤"),
    "康复科": ("KFK", "脑卒中康复|骨科术后康复|颈腰椎病康复|儿童康复"),
    "产科": ("CK", "孕期保健|高危妊娠|产前诊断|分娩镇痛"),
    "妇科": ("FK", "妇科炎症|子宫肌瘤|宫颈疾病筛查|不孕症"),
    "儿童保健科": ("ETBJK", "生长发育评估|儿童营养|儿童心理行为|预防接种咨询"),
    "新生儿科": ("XSEK", "早产儿随访|新生儿黄疸|新生儿肺炎|喂养指导"),
    "心内科": ("XNK", "冠心病介入治疗|心律失常|心力衰竭|高血压"),
    "神经内科": ("SJNK", "脑血管病|癫痫|帕金森病|头痛、眩晕"),
    "骨科": ("GK", "关节置换|脊柱外科|创伤骨科|运动医学"),
    "急诊科": ("JZK", "急危重症救治|中毒救治|创伤急救"),
}
NO_APPOINTMENTS = {"JZK"}  # the emergency department sees whoever comes: it keeps no bookable sessions
FLOORS = ("门诊楼1层", "门诊楼2层", "门诊楼3层", "门诊楼4层", "医技楼2层")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅建文辉力新春晓东海燕宁"
TITLES = ("主任医师", "副主任医师", "主治医师")
FEES = {"主任医师": "25.00", "副主任医师": "15.00", "主治医师": "10.00"}  # 诊查费, yuan


def _draw(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


@lru_cache(maxsize=1)
def registry() -> dict[str, dict]:
    """HospitalCode → the hospital, its departments by DeptCode, and their doctors."""
    from app.city.seed import load_demo_city  # the demo city's own hospitals, read once

    hospitals = {}
    for number, item in enumerate(load_demo_city()["hospitals"], 1):
        grade, address, phone = HOSPITALS[item["code"]]
        departments = {}
        for dept_number, dept_name in enumerate(item["departments"], 1):
            dept_code, specialties = DEPARTMENTS[dept_name]
            seed = _draw(f"{item['code']}/{dept_code}")
            location = f"{FLOORS[seed % len(FLOORS)]}{'ABCD'[seed % 4]}区"
            doctors = []
            for n, specialty in enumerate(specialties.split("|")):
                who = _draw(f"{item['code']}/{dept_code}/{n}")
                name = SURNAMES[who % len(SURNAMES)] + GIVEN[(who >> 8) % len(GIVEN)]
                if who % 3:
                    name += GIVEN[(who >> 16) % len(GIVEN)]
                doctors.append(
                    {
                        "DoctorCode": f"{number}{dept_number:02d}{n + 1:02d}",
                        "DoctorName": name,
                        "TitleName": TITLES[min(n, 2)],
                        "Specialty": specialty,
                    }
                )
            department = {"DeptCode": dept_code, "DeptName": dept_name, "Location": location}
            departments[dept_code] = department | {"doctors": doctors}
        hospitals[item["code"]] = {
            "HospitalCode": item["code"],
            "HospitalName": item["name"],
            "HospitalLevel": grade,
            "AreaCode": item["district"],
            "Address": address,
            "Tel": phone,
            "departments": departments,
        }
    return hospitals
