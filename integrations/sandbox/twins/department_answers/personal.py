"""Answers about one citizen's own records or cases: bills, funds, benefits, reports, applications."""

from __future__ import annotations

from integrations.sandbox.twins.department_answers.common import (
    ANSWERS,
    answers,
    days_ago,
    key_input,
    month,
    one_of,
    pick,
)


@answers("hotline-case")
def _hotline_case(inputs):
    case_no = key_input(inputs, "case_no", "工单编号", "工单")
    return {
        "case_no": case_no,
        "category": one_of(case_no + "c", ["市政设施", "环境卫生", "交通出行", "物业管理", "噪音扰民"]),
        "status": one_of(case_no + "s", ["已受理", "已转办", "办理中", "已办结"]),
        "handled_by": one_of(case_no + "h", ["市中区人民政府", "枣庄市城市管理局", "枣庄市交通运输局"]),
        "accepted_on": days_ago(case_no, 1, 30),
    }


@answers("tech-subsidy")
def _tech_subsidy(inputs):
    number = key_input(inputs, "application_no", "申报编号", "申报")
    return {
        "application_no": number,
        "project": one_of(number, ["生产线智能化改造项目", "节能降耗技术改造项目", "工业互联网平台建设项目"]),
        "stage": one_of(number + "s", ["已受理", "专家评审", "结果公示", "资金拨付"]),
        "subsidy_fen": pick(number, 10, 200) * 1_000_000,
    }


# service: (company, unit, usage range, price in fen per unit)
UTILITIES = {
    "water-bill": ("枣庄市自来水公司(示例)", "立方米", (6, 30), 385),
    "power-query": ("国网枣庄供电公司(示例)", "千瓦时", (80, 450), 55),
    "gas-bill": ("枣庄市燃气公司(示例)", "立方米", (8, 60), 305),
}


def _utility_bill(service: str, inputs: dict) -> dict:
    account = key_input(inputs, "household_no", "户号", "户号")
    company, unit, (low, high), price = UTILITIES[service]
    usage = pick(account + service, low, high)
    owing = pick(account + "owing", 0, 2) == 0
    return {
        "household_no": account,
        "company": company,
        "period": month(1),
        "usage": usage,
        "unit": unit,
        "amount_fen": usage * price,
        "arrears_fen": usage * price if owing else 0,
        "status": "欠费" if owing else "已缴清",
    }


for _service in UTILITIES:
    ANSWERS[_service] = lambda inputs, service=_service: _utility_bill(service, inputs)


@answers("elderly-allowance")
def _elderly_allowance(inputs):
    card = key_input(inputs, "card_no", "社会保障卡号", "发放记录")
    band, monthly = one_of(card, [("80–89周岁", 10000), ("90–99周岁", 20000), ("100周岁及以上", 50000)])
    return {
        "card_no": card,
        "age_band": band,
        "monthly_fen": monthly,
        "last_paid_month": month(1),
        "paid_months": pick(card, 3, 96),
    }


@answers("house-filing")
def _house_filing(inputs):
    number = key_input(inputs, "contract_no", "网签合同编号", "合同")
    return {
        "contract_no": number,
        "project": one_of(number, ["光明花园(示例)", "薛城新城·锦苑(示例)", "滕州北辛佳苑(示例)"]),
        "unit": f"{pick(number, 1, 18)}号楼{pick(number + 'u', 1, 3)}单元{pick(number + 'r', 101, 1802)}室",
        "area_m2": pick(number + "a", 7000, 14500) / 100,
        "status": "已备案",
        "filed_on": days_ago(number, 10, 400),
    }


@answers("gjj-balance")
def _gjj_balance(inputs):
    account = key_input(inputs, "account_no", "公积金个人账号", "公积金账户")
    monthly = pick(account, 300, 2400) * 100
    return {
        "account_no": account,
        "status": "正常缴存",
        "balance_fen": monthly * pick(account + "m", 6, 120),
        "monthly_deposit_fen": monthly,
        "last_deposit_month": month(1),
        "employer": one_of(account, ["枣庄示例科技有限公司", "枣庄示例商贸有限公司", "滕州示例机械有限公司"]),
    }


@answers("gjj-loan")
def _gjj_loan(inputs):
    number = key_input(inputs, "loan_no", "贷款申请编号", "贷款申请")
    return {
        "loan_no": number,
        "stage": one_of(number, ["已受理", "审批中", "已审批", "已签合同", "已放款"]),
        "amount_fen": pick(number, 10, 60) * 1_000_000,
        "term_months": one_of(number + "t", [120, 180, 240, 300, 360]),
        "updated_on": days_ago(number, 0, 14),
    }


# name, unit, normal range (low, high) in tenths
BLOOD_COUNT = (
    ("白细胞计数", "10^9/L", (40, 100)),
    ("血红蛋白", "g/L", (1200, 1600)),
    ("血小板计数", "10^9/L", (1000, 3000)),
)


@answers("lab-report")
def _lab_report(inputs):
    barcode = key_input(inputs, "barcode", "条码号", "检验报告")
    items = []
    for name, unit, (low, high) in BLOOD_COUNT:
        value = pick(barcode + name, low * 9 // 10, high * 11 // 10)
        flag = "↑" if value > high else "↓" if value < low else ""
        items.append(
            {"name": name, "value": value / 10, "unit": unit, "range": f"{low / 10}–{high / 10}", "flag": flag}
        )
    return {
        "hospital": str(inputs.get("hospital", "")),
        "barcode": barcode,
        "report": "血常规",
        "reported_on": days_ago(barcode, 0, 3),
        "items": items,
    }


@answers("si-records")
def _si_records(inputs):
    card = key_input(inputs, "card_no", "社会保障卡号", "参保信息")
    months = pick(card, 12, 360)
    return {
        "card_no": card,
        "status": "正常参保",
        "insurances": ["职工基本养老保险", "职工基本医疗保险", "失业保险", "工伤保险"],
        "base_fen": pick(card, 3600, 12000) * 100,
        "months_paid": months,
        "since_month": month(months),
    }


@answers("medical-ins")
def _medical_ins(inputs):
    card = key_input(inputs, "card_no", "社会保障卡号", "医保账户")
    credit = pick(card + "c", 80, 400) * 100
    return {
        "card_no": card,
        "balance_fen": credit * pick(card, 2, 40),
        "last_credit_month": month(0),
        "last_credit_fen": credit,
    }


@answers("cg-case")
def _cg_case(inputs):
    number = key_input(inputs, "case_no", "问题编号", "问题")
    return {
        "case_no": number,
        "problem": one_of(number, ["井盖缺失", "路灯不亮", "占道经营", "垃圾堆放", "违规广告"]),
        "status": one_of(number + "s", ["已立案", "已派遣", "处置中", "已结案"]),
        "handled_by": one_of(number + "h", ["市中区城市管理局", "薛城区城市管理局", "滕州市城市管理局"]),
        "reported_on": days_ago(number, 1, 20),
    }


EXAM_SUBJECTS = {"语文": 120, "数学": 120, "英语": 120, "物理": 90, "化学": 60, "道德与法治": 60, "历史": 60}


@answers("exam-results")
def _exam_results(inputs):
    number = key_input(inputs, "exam_no", "准考证号", "考生")
    scores = {name: full * pick(number + name, 55, 100) // 100 for name, full in EXAM_SUBJECTS.items()}
    return {
        "exam_no": number,
        "scores": scores,
        "total": sum(scores.values()),
        "full_marks": sum(EXAM_SUBJECTS.values()),
    }


@answers("id-card-progress")
def _id_card_progress(inputs):
    number = key_input(inputs, "receipt_no", "受理回执编号", "办证记录")
    stage = one_of(number, ["已受理", "制证中", "已寄出", "可领取"])
    office = "枣庄市公安局市中分局户政服务大厅(示例)"
    return {"receipt_no": number, "stage": stage, "accepted_on": days_ago(number, 1, 25), "office": office}
