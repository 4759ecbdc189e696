"""The commerce twin's register of prepaid card merchants (单用途预付卡), keyed by unified social credit code.

The codes are valid GB 32100-2015 codes: the check character is computed here, on the twin's side, with
code of its own (never the client's).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    return len(code) == 18 and all(c in ALPHABET for c in code) and check_character(code[:17]) == code[17]


# First 17 characters → the merchant as the filing system holds it. Amounts in yuan as the custody bank
# reports them; riskLevel 0 无 / 1 提示 (balance near the deposit) / 2 预警 (cards sold far beyond it).
_MERCHANTS = {
    "91370402MA3C12345": {
        "merchantName": "枣庄悦颜美业有限公司",
        "filingStatus": "1",
        "filingNo": "ZZYFK2024030015",
        "industryName": "美容美发",
        "custodyAmt": "125000.00",
        "prepaidBalance": "98600.50",
        "riskLevel": "0",
        "complaintCnt": 0,
    },
    "91370403MA3D45678": {
        "merchantName": "枣庄力健健身服务有限公司",
        "filingStatus": "1",
        "filingNo": "ZZYFK2023110042",
        "industryName": "健身",
        "custodyAmt": "300000.00",
        "prepaidBalance": "1250000.00",
        "riskLevel": "2",
        "complaintCnt": 7,
    },
    "91370481MA3E90123": {
        "merchantName": "滕州市启航教育培训学校有限公司",
        "filingStatus": "1",
        "filingNo": "ZZYFK2025010007",
        "industryName": "教育培训",
        "custodyAmt": "500000.00",
        "prepaidBalance": "618420.00",
        "riskLevel": "1",
        "complaintCnt": 2,
    },
    "91370405MA3F24681": {
        "merchantName": "台儿庄古城运河宴餐饮管理有限公司",
        "filingStatus": "1",
        "filingNo": "ZZYFK2024070031",
        "industryName": "餐饮",
        "custodyAmt": "80000.00",
        "prepaidBalance": "23150.00",
        "riskLevel": "0",
        "complaintCnt": 1,
    },
    # Known to the city (business registration, complaints) but never filed their prepaid cards.
    "92370402MA3G13579": {
        "merchantName": "枣庄市市中区洁丽洗衣店",
        "filingStatus": "0",
        "complaintCnt": 3,
    },
    "91370404MA3H86420": {
        "merchantName": "峄城区宝贝成长摄影有限公司",
        "filingStatus": "0",
        "complaintCnt": 0,
    },
}
MERCHANTS = {first17 + check_character(first17): row for first17, row in _MERCHANTS.items()}


def merchant(code: str) -> dict | None:
    row = MERCHANTS.get(code)
    if row is None:
        return None
    blank = {"filingNo": None, "industryName": None, "custodyAmt": None, "prepaidBalance": None, "riskLevel": None}
    return {**blank, **row, "uscc": code}
