"""The social security twin's insured people: the demo citizens (and one relative), their insurances and cards.

Invented but plausible: Shandong's contribution rates, card numbers in the national format (a letter and
eight characters), employers from the twin legal-entity register. Months are counted as
year * 12 + month - 1, so that arithmetic on them is plain integer arithmetic.

Cards: 张伟 A37040219, 王芳 A37040388, 李娜 B37040412, 刘洋 A37040556, 陈静 C37040607, 孙浩 A37048133,
赵丽 (relative) A37040290. The other relatives have no social security records.

The one thing that changes: flexible-employment bills written off (销账) through us by `write_off`, or paid at
a counter (`pay_elsewhere`, the tests' and demo's control), read paid from then on, in the bills and in the
contribution records alike (the pension account is credited in the department's monthly batch: not here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.sandbox.twin_kit import Receipt, ShownBill, WriteOffLedger

# aae140 险种类型 → name, and the per-mille rates of the base (personal, employer).
INSURANCES = {
    "110": "企业职工基本养老保险",
    "210": "失业保险",
    "310": "职工基本医疗保险",
    "410": "工伤保险",
    "510": "生育保险",
}
EMPLOYEE_RATES = {"110": (80, 160), "210": (3, 7), "310": (20, 70), "410": (0, 5), "510": (0, 10)}
FLEXIBLE_RATES = {"110": (200, 0), "310": (90, 0)}  # 灵活就业: the person pays all of it
PERSONAL_ACCOUNT_PERMILLE = 80  # of the pension base, credited to the personal account
BASE_YEAR = 2026  # the bases below are this year's; earlier years' were 4% a year lower
BEIJING = timezone(timedelta(hours=8))
LOCK_WAIT_SECONDS = 1.0  # a write-off waiting longer for the ledger answers "busy", as a locked row would


@dataclass(frozen=True)
class Insurance:
    code: str  # aae140
    status: str  # aac008: 1 参保缴费, 2 暂停缴费, 3 终止参保
    since: str  # aae030, yyyyMMdd
    paid_until: str | None = None  # yyyyMM: the last month paid when no longer paying; None: paying now


@dataclass(frozen=True)
class Insured:
    name: str
    card: str  # aaz500 社会保障卡号
    bank: str  # the card's co-branding bank
    employer: str  # aab004, "" for flexible employment (灵活就业)
    base_yuan: int  # this year's contribution base
    insurances: tuple[Insurance, ...]
    flexible_since: str | None = None  # yyyyMM: from this month on, paid as a flexible-employment person
    owed_months: int = 0  # flexible: the latest months not yet paid


def _id(name: str) -> str:
    return next(p["id_number"] for p in (*DEMO_CITIZENS, *DEMO_RELATIVES) if p["name"] == name)


def _all_five(status: str, since: str, paid_until: str | None = None) -> tuple[Insurance, ...]:
    return tuple(Insurance(code, status, since, paid_until) for code in INSURANCES)


PEOPLE: dict[str, Insured] = {
    _id("张伟"): Insured(
        "张伟", "A37040219", "中国工商银行", "枣庄鲁南机械制造有限公司", 6500, _all_five("1", "20080701")
    ),
    _id("王芳"): Insured(
        "王芳", "A37040388", "中国建设银行", "山东鲁南恒达物流有限公司", 5200, _all_five("1", "20130301")
    ),
    _id("李娜"): Insured(
        "李娜",
        "B37040412",
        "中国农业银行",
        "",
        4000,
        (
            Insurance("110", "1", "20000801"),
            Insurance("310", "1", "20000801"),
            Insurance("210", "3", "20000801", "201905"),
            Insurance("410", "3", "20000801", "201905"),
            Insurance("510", "3", "20000801", "201905"),
        ),
        flexible_since="201906",
        owed_months=2,
    ),
    _id("刘洋"): Insured(
        "刘洋", "A37040556", "中国银行", "枣庄高新区云帆信息科技有限公司", 4800, _all_five("1", "20230701")
    ),
    _id("陈静"): Insured(
        "陈静",
        "C37040607",
        "中国工商银行",
        "枣庄市山亭区供销合作社",
        5600,
        (
            Insurance("110", "3", "19880701", "202204"),  # retired: draws her pension, pays no more
            Insurance("310", "1", "19880701", "202204"),  # retirees stay insured without paying
            Insurance("210", "3", "19880701", "202204"),
            Insurance("410", "3", "19880701", "202204"),
            Insurance("510", "3", "19880701", "202204"),
        ),
    ),
    _id("孙浩"): Insured(
        "孙浩",
        "A37048133",
        "中国邮政储蓄银行",
        "",
        4500,
        (Insurance("110", "1", "20170501"), Insurance("310", "2", "20170501", "202312")),
        flexible_since="201705",
        owed_months=1,
    ),
    _id("赵丽"): Insured(
        "赵丽", "A37040290", "中国建设银行", "枣庄市市中区光明路幼儿园", 4600, _all_five("1", "20100901")
    ),
}
CARDS = {person.card: id_number for id_number, person in PEOPLE.items()}


# Months paid since their bill was issued, by (card, month), and each ywlsh's 销账流水号 (370400, the time,
# four digits).
_ledger = WriteOffLedger(BEIJING, "370400", 4)
_lock = _ledger.lock  # held by a test to keep the ledger busy
reset = _ledger.reset


def _settled(card: str) -> set[int]:
    """The months whose flexible-employment bill was paid since it was issued."""
    return {month for (paid_card, month) in _ledger.settled() if paid_card == card}


def month_index(yyyymm: str) -> int:
    return int(yyyymm[:4]) * 12 + int(yyyymm[4:6]) - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def base_fen(person: Insured, month: int) -> int:
    years_back = max(BASE_YEAR - month // 12, 0)
    return round(person.base_yuan * 0.96**years_back) * 100


def last_paid(person: Insured, insurance: Insurance, this_month: int) -> int:
    """The last month paid: contributions are collected in the month they are for (当月缴当月)."""
    if insurance.paid_until:
        return month_index(insurance.paid_until)
    return this_month - person.owed_months


def rates(person: Insured, code: str, month: int) -> tuple[int, int]:
    flexible = person.flexible_since is not None and month >= month_index(person.flexible_since)
    return FLEXIBLE_RATES.get(code, (0, 0)) if flexible else EMPLOYEE_RATES[code]


def contribution_rows(person: Insured, year: int, this_month: int) -> list[dict]:
    """Every insurance's month of `year`, paid or owed, in the twin's own fields; month then aae140 order."""
    rows, settled = [], _settled(person.card)
    for month in range(year * 12, year * 12 + 12):
        for insurance in sorted(person.insurances, key=lambda i: i.code):
            start, paid = month_index(insurance.since[:6]), last_paid(person, insurance, this_month)
            issued_owed = insurance.paid_until is None and paid < month <= this_month
            if month < start or (month > paid and not issued_owed):
                continue
            personal, employer = rates(person, insurance.code, month)
            if personal == employer == 0:
                continue  # an insurance a flexible-employment person does not pay
            base = base_fen(person, month)
            rows.append(
                {
                    "aae002": month_text(month),
                    "aae140": insurance.code,
                    "aae180": base,
                    "aae022": base * personal // 1000,
                    "aae021": base * employer // 1000,
                    # 到账标志: 1 已到账, 0 欠费 (a month paid since it was issued has arrived too)
                    "aae078": "0" if issued_owed and month not in settled else "1",
                }
            )
    return rows


def months_paid(person: Insured, insurance: Insurance, this_month: int) -> int:
    return max(last_paid(person, insurance, this_month) - month_index(insurance.since[:6]) + 1, 0)


def pension_account(person: Insured, this_month: int) -> dict | None:
    """Balance, principal (fen), months and the last month credited; None without pension insurance."""
    pension = next((i for i in person.insurances if i.code == "110"), None)
    if pension is None:
        return None
    first, last = month_index(pension.since[:6]), last_paid(person, pension, this_month)
    principal = sum(base_fen(person, m) * PERSONAL_ACCOUNT_PERMILLE // 1000 for m in range(first, last + 1))
    years = (last - first + 1) / 12
    interest = round(principal * 0.035 * years / 2)  # credited yearly on a growing balance: about half
    return {"balance": principal + interest, "principal": principal, "months": last - first + 1, "last": last}


def bill_number(card: str, month: int) -> str:
    return f"LH{card[-6:]}{month_text(month)}"  # djbh 单据编号


def flexible_bills(person: Insured, this_month: int, months: int = 6) -> list[dict]:
    """The latest months' bills of a flexible-employment person, newest first: the pension and medical due,
    {number, month, amount (fen), owed}."""
    bills, settled = [], _settled(person.card)
    for month in range(this_month, this_month - months, -1):
        # Rows paid or owed alike: a bill's amount stays what it was when it was issued.
        amount = sum(row["aae022"] for row in contribution_rows(person, month // 12, this_month) if _in(row, month))
        owed = month > this_month - person.owed_months and month not in settled
        if amount:
            bills.append({"number": bill_number(person.card, month), "month": month, "amount": amount, "owed": owed})
    return bills


def _shown(person: Insured, this_month: int) -> dict[str, ShownBill]:
    """The person's flexible-employment bills for the ledger: what each owes (fen), None when it reads paid."""
    return {
        bill["number"]: ShownBill((person.card, bill["month"]), bill["amount"] if bill["owed"] else None)
        for bill in flexible_bills(person, this_month)
    }


def write_off(person: Insured, numbers: list[str], amount: int, serial: str, this_month: int) -> Receipt:
    """Write the bills off as paid by the payment `serial` (ywlsh), whose amount (fen) must be what they owe;
    the same payment again answers its first receipt. Raises Refused, or Busy when the ledger stays locked."""
    return _ledger.write_off(
        person.card, numbers, amount, serial, lambda: _shown(person, this_month), wait=LOCK_WAIT_SECONDS
    )


def pay_elsewhere(person: Insured, number: str, this_month: int) -> bool:
    """Mark one of the person's flexible-employment bills paid at a counter; False when there is no such bill."""
    return _ledger.pay_elsewhere(number, lambda: _shown(person, this_month))


def _in(row: dict, month: int) -> bool:
    return row["aae002"] == month_text(month)
