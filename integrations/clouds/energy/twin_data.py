"""The energy twin's invented customers: accounts of the three utilities, their meters' monthly use and bills.

Everything derives from the account number (and today's date), so the same account always reads the same.
Bills live in one place, `bills_of`, which also reads what happened since they were issued: bills written off
(销账) through us by `write_off`, and bills paid at a counter (`pay_elsewhere`, the tests' and demo's control).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from app.city.seed import load_demo_city
from integrations.sandbox.twin_kit import Receipt, ShownBill, WriteOffLedger

BEIJING = timezone(timedelta(hours=8))
BILLS_SHOWN = 6  # months of bills an account query returns
ISSUE_DAY = 5  # a month's bill is issued on the 5th of the next month, after meter reading


@dataclass(frozen=True)
class Utility:
    biz_type: str  # the twin's own code for the line of business
    code: str  # as in zaozhuang.json
    digits: int  # length of an account number
    unit: str
    price: Decimal  # yuan per unit, residential first tier
    low: int  # typical monthly use, in units
    high: int
    late_fee_rate: Decimal  # of the amount, per day overdue
    decimals: int  # how the meter reads


UTILITIES = {
    "SW": Utility("SW", "water", 8, "吨", Decimal("3.65"), 5, 16, Decimal("0.001"), 1),
    "DL": Utility("DL", "power", 10, "千瓦时", Decimal("0.5469"), 90, 420, Decimal("0.001"), 0),
    "RQ": Utility("RQ", "gas", 11, "立方米", Decimal("3.20"), 8, 45, Decimal("0.0005"), 1),
}
COMPANIES = {item["code"]: item["name"] for item in load_demo_city()["utility_companies"]}

# Demo citizens' homes and accounts (names as in integrations/clouds/sharing/sandbox.py), with how many of
# the latest bills each leaves unpaid.
_HOMES = {
    "张伟": "市中区光明路12号院3号楼2单元501室",
    "王芳": "薛城区黄河路88号6号楼1单元302室",
    "李娜": "峄城区坛山路16号2号楼3单元201室",
    "刘洋": "台儿庄区箭道街9号1号楼1单元102室",
    "陈静": "山亭区府前路21号5号楼2单元401室",
    "孙浩": "滕州市北辛中路35号11号楼2单元601室",
}
DEMO_ACCOUNTS: dict[tuple[str, str], tuple[str, int]] = {
    ("SW", "10203041"): ("张伟", 2),
    ("DL", "3700012345"): ("张伟", 3),
    ("RQ", "66001234567"): ("张伟", 0),
    ("SW", "10203052"): ("王芳", 0),
    ("DL", "3700023456"): ("王芳", 2),
    ("RQ", "66001234578"): ("王芳", 3),
    ("SW", "10203063"): ("李娜", 3),
    ("DL", "3700034567"): ("李娜", 0),
    ("DL", "3700045678"): ("刘洋", 2),
    ("RQ", "66001234589"): ("刘洋", 0),
    ("SW", "10203074"): ("陈静", 0),
    ("RQ", "66001234591"): ("陈静", 2),
    ("SW", "10203085"): ("孙浩", 2),
    ("DL", "3700056789"): ("孙浩", 0),
    ("RQ", "66001234602"): ("孙浩", 3),
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("秀兰", "建华", "桂英", "志强", "玉梅", "海涛", "丽华", "国庆", "春梅", "永刚", "淑珍", "明")
_ROADS = ("市中区文化中路", "市中区青檀北路", "薛城区泰山南路", "峄城区承水路", "台儿庄区兴中路", "滕州市学院中路")

LOCK_WAIT_SECONDS = 1.0  # a write-off waiting longer for the ledger answers "busy", as a locked row would
# Bills paid since they were issued, by bill number, and each payNo's 销账流水号 (XZ, the time, six digits).
_ledger = WriteOffLedger(BEIJING, "XZ", 6)
_lock = _ledger.lock  # held by a test to keep the ledger busy
reset = _ledger.reset


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


@dataclass(frozen=True)
class Account:
    utility: Utility
    number: str
    holder: str
    address: str
    unpaid: int  # how many of the latest bills are left unpaid


def find_account(biz_type: str, number: str) -> Account | None:
    """None for a number of the wrong shape, and for numbers ending in 0: those were never issued."""
    utility = UTILITIES[biz_type]
    if len(number) != utility.digits or not number.isdigit() or number.endswith("0"):
        return None
    demo = DEMO_ACCOUNTS.get((biz_type, number))
    if demo is not None:
        holder, unpaid = demo
        return Account(utility, number, holder, _HOMES[holder], unpaid)
    seed = _seed(biz_type, number)
    holder = _SURNAMES[seed % len(_SURNAMES)] + _GIVEN[(seed >> 5) % len(_GIVEN)]
    road = _ROADS[(seed >> 9) % len(_ROADS)]
    building, unit, floor, door = (seed >> 3) % 20 + 1, (seed >> 7) % 3 + 1, (seed >> 11) % 6 + 1, (seed >> 13) % 2 + 1
    address = f"{road}{seed % 120 + 1}号{building}号楼{unit}单元{floor}0{door}室"
    return Account(utility, number, holder, address, (0, 0, 2, 3)[(seed >> 17) % 4])


def latest_period(today: date) -> date:
    """The first day of the latest month that has a bill."""
    first = today.replace(day=1)
    back = 1 if today.day >= ISSUE_DAY else 2
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def periods(today: date, count: int) -> list[date]:
    """The latest `count` billed months, newest first."""
    months, month = [], latest_period(today)
    for _ in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def month_use(account: Account, month: date) -> tuple[Decimal, Decimal]:
    """(units used, amount in yuan) of one month; more in winter for gas and in summer for power."""
    utility = account.utility
    seed = _seed(account.number, f"{month:%Y%m}")
    span = utility.high - utility.low
    season = {
        "DL": (0, 0, 0, 0, 0, 0.2, 0.5, 0.5, 0.2, 0, 0, 0.1),
        "RQ": (0.6, 0.5, 0.3, 0, 0, 0, 0, 0, 0, 0, 0.3, 0.6),
    }
    lift = season.get(utility.biz_type, (0,) * 12)[month.month - 1]
    units = Decimal(utility.low + span * ((seed % 1000) / 1000) * (0.6 + lift))
    units = units.quantize(Decimal(1).scaleb(-utility.decimals), ROUND_HALF_UP)
    return units, (units * utility.price).quantize(Decimal("0.01"), ROUND_HALF_UP)


def due_date(month: date) -> date:
    """The last day of the month after the billed month."""
    after_next = (month.replace(day=28) + timedelta(days=40)).replace(day=1)
    return after_next - timedelta(days=1)


def bills_of(account: Account, today: date) -> list[dict]:
    """Newest first: {number, month, amount, late_fee, due, state} with state "0" unpaid, "1" paid, "2" overdue."""
    paid_since = _ledger.settled()
    bills = []
    for index, month in enumerate(periods(today, BILLS_SHOWN)):
        number = f"{account.utility.biz_type}{account.number}{month:%Y%m}"
        _, amount = month_use(account, month)
        due, late_fee, state = due_date(month), Decimal("0.00"), "1"
        if index < account.unpaid and number not in paid_since:
            state = "2" if due < today else "0"
            if state == "2":
                rate = account.utility.late_fee_rate * (today - due).days
                late_fee = (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        bills.append(
            {"number": number, "month": month, "amount": amount, "late_fee": late_fee, "due": due, "state": state}
        )
    return bills


def _shown(account: Account, today: date) -> dict[str, ShownBill]:
    """The account's bills for the ledger: what each owes with its late fee, None when it reads paid."""
    return {
        b["number"]: ShownBill(b["number"], None if b["state"] == "1" else b["amount"] + b["late_fee"])
        for b in bills_of(account, today)
    }


def write_off(account: Account, numbers: list[str], amount: Decimal, pay_no: str, today: date) -> Receipt:
    """Write the bills off as paid by `pay_no`, whose amount must be what they owe with late fees; the same
    payment again answers its first receipt. Raises Refused, or Busy when the ledger stays locked."""
    key = (account.utility.biz_type, account.number)
    return _ledger.write_off(key, numbers, amount, pay_no, lambda: _shown(account, today), wait=LOCK_WAIT_SECONDS)


def pay_elsewhere(account: Account, number: str, today: date) -> bool:
    """Mark one of the account's bills paid at a counter; False when the account shows no such bill."""
    return _ledger.pay_elsewhere(number, lambda: _shown(account, today))
