"""The housing provident fund twin's depositors: the demo citizens (and one relative), accounts and loans.

Invented but plausible: 12-digit personal account numbers of the Zaozhuang centre (3710 + 8 digits),
Shandong's 5-12% deposit rates, loans of the centre's kind. Months are counted as year * 12 + month - 1.

Accounts: 张伟 371010012345 (normal, a disbursed loan), 王芳 371010023456 (normal, a loan under review),
李娜 371010034567 (sealed since she left her employer), 刘洋 371010045678 (normal, a rejected loan, rent
withdrawals), 陈静 371010056789 (closed at retirement), 赵丽 (relative) 371010067890 (normal, a loan just
accepted). 孙浩 and the other relatives have no account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES

BEIJING = timezone(timedelta(hours=8))
STAGES = {"01": "受理", "02": "审核中", "03": "审批通过", "04": "已放款", "05": "不予批准"}


@dataclass(frozen=True)
class Loan:
    number: str  # dkbh
    stage: str  # jdbm, one of STAGES
    amount_yuan: int
    applied_days_ago: int | None = None  # for loans still moving: relative to today
    applied_on: str | None = None  # yyyy-MM-dd, for loans long settled


@dataclass(frozen=True)
class Depositor:
    name: str
    account: str  # grzh
    status: str  # grzhzt: 1 正常, 2 封存, 9 销户
    employer: str  # dwmc
    base_yuan: int  # jcjs 缴存基数
    rate: int  # per cent, the same for the person and the employer
    balance_fen: int  # now
    opened: str  # yyyyMM: the first deposit
    last_deposit: str | None = None  # yyyyMM when no longer depositing; None: depositing every month
    rent_withdrawal_fen: int = 0  # each quarter's first month (租房提取)
    loan_withdrawal_fen: int = 0  # each March (偿还住房贷款本息提取)
    loans: tuple[Loan, ...] = ()


def _id(name: str) -> str:
    return next(p["id_number"] for p in (*DEMO_CITIZENS, *DEMO_RELATIVES) if p["name"] == name)


DEPOSITORS: dict[str, Depositor] = {
    _id("张伟"): Depositor(
        "张伟", "371010012345", "1", "枣庄鲁南机械制造有限公司", 6500, 12, 4_682_350, "200807",
        loan_withdrawal_fen=1_800_000,
        loans=(Loan("DK370402202103150021", "04", 600_000, applied_on="2021-03-15"),),
    ),
    _id("王芳"): Depositor(
        "王芳", "371010023456", "1", "山东鲁南恒达物流有限公司", 5200, 10, 6_126_480, "201303",
        loans=(Loan("DK370403%s0007", "02", 450_000, applied_days_ago=9),),
    ),
    _id("李娜"): Depositor(
        "李娜", "371010034567", "2", "枣庄市峄城区华康商贸有限公司", 3800, 8, 2_315_600, "200409", "201905"
    ),
    _id("刘洋"): Depositor(
        "刘洋", "371010045678", "1", "枣庄高新区云帆信息科技有限公司", 4800, 12, 2_412_640, "202307",
        rent_withdrawal_fen=180_000,
        loans=(Loan("DK370405202409200113", "05", 350_000, applied_on="2024-09-20"),),
    ),
    _id("陈静"): Depositor("陈静", "371010056789", "9", "枣庄市山亭区供销合作社", 5600, 10, 0, "199907", "202204"),
    _id("赵丽"): Depositor(
        "赵丽", "371010067890", "1", "枣庄市市中区光明路幼儿园", 4600, 12, 5_964_310, "201009",
        loans=(Loan("DK370402%s0031", "01", 400_000, applied_days_ago=2),),
    ),
}  # fmt: skip
ACCOUNTS = {depositor.account: id_number for id_number, depositor in DEPOSITORS.items()}


def month_index(yyyymm: str) -> int:
    return int(yyyymm[:4]) * 12 + int(yyyymm[4:6]) - 1


def monthly_deposit_fen(person: Depositor) -> int:
    """Person and employer together: the base times both rates."""
    return person.base_yuan * 100 * person.rate * 2 // 100


def ledger(person: Depositor, today: date, months: int = 36) -> list[dict]:
    """The account's movements of the last `months` months, newest first, each with the balance after it."""
    this_month = today.year * 12 + today.month - 1
    last = month_index(person.last_deposit) if person.last_deposit else this_month
    events = []
    for month in range(this_month, this_month - months, -1):
        year, number = month // 12, month % 12 + 1
        if person.status == "9" and month > last:
            continue  # a closed account moves no more
        if person.status == "9" and month == last:
            events.append((date(year, number, 28), "05", None, "退休销户提取"))
        if number == 6 and date(year, 6, 30) <= today:
            events.append((date(year, 6, 30), "04", None, f"{year}年度结息"))
        if month_index(person.opened) <= month <= last and date(year, number, 15) <= today:
            events.append((date(year, number, 15), "01", monthly_deposit_fen(person), f"{year}年{number:02d}月汇缴"))
        if person.rent_withdrawal_fen and number in (1, 4, 7, 10) and date(year, number, 20) <= today:
            events.append((date(year, number, 20), "03", -person.rent_withdrawal_fen, "租赁住房提取"))
        if person.loan_withdrawal_fen and number == 3 and date(year, 3, 25) <= today:
            events.append((date(year, 3, 25), "03", -person.loan_withdrawal_fen, "偿还住房贷款本息提取"))
    events.sort(key=lambda event: event[0], reverse=True)
    balance, rows = person.balance_fen, []
    for day, kind, amount, summary in events:
        if kind == "04":  # interest: 1.5% a year on the balance before it
            amount = round(balance * 0.015 / 1.015)
        if kind == "05":  # closing: what was left leaves (as it was then: about twelve years of deposits)
            amount = -monthly_deposit_fen(person) * 150
        rows.append({"day": day, "kind": kind, "amount": amount, "balance": balance, "summary": summary})
        balance -= amount
    return rows


def loan_record(loan: Loan, today: date) -> dict:
    """The loan in the twin's fields, with the steps done so far (times in epoch milliseconds)."""
    if loan.applied_on is None:
        applied = today - timedelta(days=loan.applied_days_ago or 0)
    else:
        applied = date.fromisoformat(loan.applied_on)
    at = datetime(applied.year, applied.month, applied.day, 9, 30, tzinfo=BEIJING)
    plan = [
        ("受理", 0, "市中区管理部"),
        ("初审", 1, "贷款审核科"),
        ("复审", 4, "贷款审核科"),
        ("审批", 6, "审批委员会"),
    ]
    done = {"01": 1, "02": 2, "03": 4, "04": 4, "05": 3}[loan.stage]
    steps = [(name, at + timedelta(days=days, hours=index), office) for index, (name, days, office) in enumerate(plan)]
    steps = steps[:done]
    if loan.stage == "04":
        steps.append(("放款", at + timedelta(days=12, hours=5), "委托银行"))
    if loan.stage == "05":
        steps.append(("不予批准（还款能力不足）", at + timedelta(days=5, hours=2), "贷款审核科"))
    return {
        "dkbh": loan.number.replace("%s", f"{applied:%Y%m%d}"),
        "jdbm": loan.stage,
        "jdmc": STAGES[loan.stage],
        "dkje": float(loan.amount_yuan),
        "sqrq": f"{applied:%Y/%m/%d}",
        "hjlb": [{"hjmc": name, "blsj": int(when.timestamp() * 1000), "bljg": office} for name, when, office in steps],
    }
