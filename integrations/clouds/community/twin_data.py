"""The community twin's invented registers: communities (the demo city's, and a few more) and property accounts.

A property account number is the community's two letters, the building (2 digits), the unit (2) and the
room (3): GM0302501 is 光明路社区 3号楼2单元501室. Numbers ending in 0 were never issued. Fees are monthly;
which bills stay unpaid derives from the number; bills paid since they were issued, written off (销账) through
us by `write_off` or paid at the property office (`pay_elsewhere`, the tests' and demo's control), are in
`_ledger`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.city.seed import load_demo_city
from app.clock import CITY_TZ
from integrations.sandbox.twin_kit import Receipt, ShownBill, WriteOffLedger

BILLS_SHOWN = 6
LOCK_WAIT_SECONDS = 1.0  # a write-off waiting longer for the ledger answers "busy", as a locked row would
FEE_PER_SQUARE_METRE = Decimal("1.20")  # yuan a month, residential
DISTRICT_NAMES = {item["code"]: item["name"] for item in load_demo_city()["districts"]}


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    district: str
    prefix: str  # of its property accounts
    address: str
    office_phone: str
    property_company: str
    property_hotline: str


def _demo_city_communities() -> list[Community]:
    """The demo city's communities, with the office details the city file does not carry."""
    details = {
        "demo-guangming": ("GM", "市中区光明路66号", "0632-3311201", "0632-3311266"),
        "demo-xincheng": ("XC", "薛城区黄河路90号", "0632-4412302", "0632-4412388"),
        "demo-beixin": ("BX", "滕州市北辛中路33号", "0632-5513403", "0632-5513499"),
    }
    found = []
    for item in load_demo_city()["communities"]:
        if item["code"] not in details:  # a community added to the city file waits for its office details here
            continue
        prefix, address, office, hotline = details[item["code"]]
        found.append(
            Community(
                item["code"], item["name"], item["district"], prefix, address, office, item["property_company"], hotline
            )
        )
    return found


COMMUNITIES = [
    *_demo_city_communities(),
    Community(
        "demo-wenhua", "文化路社区(示例)", "370402", "WH", "市中区文化中路118号", "0632-3311305",
        "枣庄鑫城物业管理有限公司(示例)", "0632-3318008",
    ),
    Community(
        "demo-qingtan", "青檀路社区(示例)", "370402", "QT", "市中区青檀北路27号", "0632-3311409",
        "示例物业服务有限公司", "0632-3311266",
    ),
    Community(
        "demo-linshan", "临山社区(示例)", "370403", "LS", "薛城区临山路56号", "0632-4412506",
        "薛城安居物业有限公司(示例)", "0632-4419119",
    ),
    Community(
        "demo-tanshan", "坛山社区(示例)", "370404", "TS", "峄城区坛山路12号", "0632-7716201",
        "峄城康居物业服务有限公司(示例)", "0632-7716688",
    ),
    Community(
        "demo-guchengnan", "古城南社区(示例)", "370405", "GC", "台儿庄区箭道街5号", "0632-6617302",
        "台儿庄运河物业有限公司(示例)", "0632-6617777",
    ),
    Community(
        "demo-fuqian", "府前社区(示例)", "370406", "FQ", "山亭区府前路19号", "0632-8818403",
        "山亭翠屏物业服务有限公司(示例)", "0632-8818666",
    ),
    Community(
        "demo-jinghe", "荆河社区(示例)", "370481", "JH", "滕州市荆河中路201号", "0632-5513507",
        "滕州示例物业有限公司", "0632-5513499",
    ),
    Community(
        "demo-shanguo", "善国社区(示例)", "370481", "SG", "滕州市善国中路77号", "0632-5513611",
        "滕州龙泉物业管理有限公司(示例)", "0632-5516789",
    ),
    Community(
        "demo-yongfu", "永福社区(示例)", "370403", "YF", "薛城区永福南路31号", "0632-4412615",
        "薛城安居物业有限公司(示例)", "0632-4419119",
    ),
]  # fmt: skip
BY_PREFIX = {c.prefix: c for c in COMMUNITIES}

# Demo citizens' homes (names as in integrations/clouds/sharing/sandbox.py) and how many bills each leaves unpaid.
DEMO_OWNERS = {"GM0302501": ("张伟", 3), "XC0601302": ("王芳", 0), "BX1102601": ("孙浩", 2), "TS0203201": ("李娜", 2)}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("秀英", "建军", "桂兰", "志刚", "玉兰", "海燕", "德胜", "凤英", "晓东", "红梅")


# Bills paid since they were issued, by bill number, and each jylsh's 销账单号 (WYXZ, the time, six digits).
_ledger = WriteOffLedger(CITY_TZ, "WYXZ", 6)
_lock = _ledger.lock  # held by a test to keep the ledger busy
reset = _ledger.reset


@dataclass(frozen=True)
class PropertyAccount:
    number: str
    community: Community
    owner: str
    room: str  # 3号楼2单元501室
    area: Decimal  # square metres
    unpaid: int


def find_account(number: str) -> PropertyAccount | None:
    shape = re.fullmatch(r"([A-Z]{2})([0-9]{2})([0-9]{2})([0-9]{3})", number)
    if shape is None or number.endswith("0") or shape[1] not in BY_PREFIX or shape[2] == "00" or shape[3] == "00":
        return None
    seed = int(hashlib.sha256(number.encode()).hexdigest()[:12], 16)
    owner, unpaid = DEMO_OWNERS.get(number) or (
        _SURNAMES[seed % len(_SURNAMES)] + _GIVEN[(seed >> 5) % len(_GIVEN)],
        (0, 0, 1, 3)[(seed >> 9) % 4],
    )
    room = f"{int(shape[2])}号楼{int(shape[3])}单元{shape[4]}室"
    area = Decimal(70 + seed % 70) + Decimal((seed >> 13) % 100) / 100
    return PropertyAccount(number, BY_PREFIX[shape[1]], owner, room, area, unpaid)


def _months(today: date) -> list[date]:
    """The latest BILLS_SHOWN months billed (a month's fee is billed on its first day), newest first."""
    months, month = [], today.replace(day=1)
    for _ in range(BILLS_SHOWN):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def bills_of(account: PropertyAccount, today: date) -> list[dict]:
    """Newest first: {number, month, amount, due, state} with state 未缴, 已缴 or 逾期."""
    paid_since = _ledger.settled()
    amount = (account.area * FEE_PER_SQUARE_METRE).quantize(Decimal("0.01"), ROUND_HALF_UP)
    bills = []
    for index, month in enumerate(_months(today)):
        number = f"WY{account.number}{month:%Y%m}"
        due = month.replace(day=15)  # due by the 15th of the month it covers
        state = "已缴"
        if index < account.unpaid and number not in paid_since:
            state = "逾期" if due < today else "未缴"
        bills.append({"number": number, "month": month, "amount": amount, "due": due, "state": state})
    return bills


def _shown(account: PropertyAccount, today: date) -> dict[str, ShownBill]:
    """The account's bills for the ledger: what each owes, None when it reads paid."""
    return {
        b["number"]: ShownBill(b["number"], None if b["state"] == "已缴" else b["amount"])
        for b in bills_of(account, today)
    }


def write_off(account: PropertyAccount, numbers: list[str], amount: Decimal, serial: str, today: date) -> Receipt:
    """Write the bills off as paid by the payment `serial` (jylsh), whose amount must be what they owe; the
    same payment again answers its first receipt. Raises Refused, or Busy when the ledger stays locked."""
    return _ledger.write_off(
        account.number, numbers, amount, serial, lambda: _shown(account, today), wait=LOCK_WAIT_SECONDS
    )


def pay_elsewhere(account: PropertyAccount, number: str, today: date) -> bool:
    """Mark one of the account's bills paid at the property office; False when it shows no such bill."""
    return _ledger.pay_elsewhere(number, lambda: _shown(account, today))
