"""Answers about public information and registers anyone may look up: air, buses, scenic spots,
farm prices, licences, certificates and prepaid-card filings."""

from __future__ import annotations

from integrations.sandbox.twins.department_answers.common import (
    Refusal,
    answers,
    days_ago,
    key_input,
    one_of,
    pick,
    today,
)

# daily_max of the spots in app/city/data/zaozhuang.json
SCENIC_SPOTS = {
    "tezgc": 40000,
    "bdgslgy": 12000,
    "xesdz": 10000,
    "wshhh": 15000,
    "gsly": 8000,
    "mzjng": 3000,
    "tezdzjng": 5000,
}


@answers("scenic-flow")
def _scenic_flow(inputs):
    spot = str(inputs.get("spot", ""))
    if spot not in SCENIC_SPOTS:
        raise Refusal("NOT_FOUND", "未查询到该景区")
    capacity = SCENIC_SPOTS[spot]
    visitors = capacity * pick(spot, 5, 95) // 100
    share = visitors / capacity
    comfort = "舒适" if share < 0.5 else "较舒适" if share < 0.8 else "拥挤"
    return {"spot": spot, "visitors_now": visitors, "daily_max": capacity, "comfort": comfort}


@answers("bus-arrival")
def _bus_arrival(inputs):
    line = key_input(inputs, "line", "线路", "线路")
    stop = str(inputs.get("stop") or "").strip() or "枣庄站"
    arrivals = []
    for n in range(pick(line + stop, 1, 3)):
        stops_away = pick(f"{line}{stop}{n}", 1, 4) + 4 * n
        bus = f"鲁D{pick(f'{line}{n}', 10000, 99999)}"
        arrivals.append({"bus": bus, "stops_away": stops_away, "minutes": stops_away * 3})
    return {"line": line, "stop": stop, "arrivals": arrivals}


DISTRICTS = {
    "370402": "市中区",
    "370403": "薛城区",
    "370404": "峄城区",
    "370405": "台儿庄区",
    "370406": "山亭区",
    "370481": "滕州市",
}


@answers("air")
def _air(inputs):
    chosen = str(inputs.get("district") or "")
    if chosen and chosen not in DISTRICTS:
        raise Refusal("NOT_FOUND", "未查询到该区县的监测数据")
    rows = []
    for code, name in DISTRICTS.items():
        if chosen in ("", code):
            aqi = pick(code, 25, 160)
            level = "优" if aqi <= 50 else "良" if aqi <= 100 else "轻度污染" if aqi <= 150 else "中度污染"
            rows.append(
                {
                    "district": code,
                    "name": name,
                    "aqi": aqi,
                    "level": level,
                    "primary_pollutant": None if aqi <= 50 else one_of(code, ["PM2.5", "PM10", "O3"]),
                    "pm25": aqi * 2 // 3,
                    "pm10": aqi,
                }
            )
    return {"districts": rows}


@answers("fd-licence")
def _fd_licence(inputs):
    number = key_input(inputs, "licence_no", "许可证编号", "许可证").upper()
    food = number.startswith("JY")
    return {
        "licence_no": number,
        "kind": "食品经营许可证" if food else "药品经营许可证",
        "holder": one_of(number, ["枣庄示例餐饮有限公司", "薛城示例食品商行"] if food else ["市中区示例大药房"]),
        "scope": "预包装食品销售；热食类食品制售" if food else "中成药、化学药制剂、生物制品",
        "valid_until": f"{today().year + pick(number, 1, 5)}-{pick(number, 1, 12):02d}-15",
        "status": "有效",
    }


@answers("safety-cert")
def _safety_cert(inputs):
    number = key_input(inputs, "cert_no", "证书编号", "证书")
    issued = today().year - pick(number, 0, 5)
    return {
        "cert_no": number,
        "holder": one_of(number, ["张*", "李*", "王*", "刘*"]),
        "category": one_of(number + "c", ["电工作业", "焊接与热切割作业", "高处作业", "制冷与空调作业"]),
        "issued_year": issued,
        "valid_until": f"{issued + 6}-06-30",
        "status": "有效",
    }


# product: (name, price in fen per kg around which the market moves)
FARM_PRODUCTS = {
    "cabbage": ("大白菜", 160),
    "potato": ("马铃薯", 300),
    "garlic": ("大蒜", 800),
    "egg": ("鸡蛋", 900),
    "pork": ("猪肉", 2600),
    "pomegranate": ("石榴", 1000),
}


@answers("farm-prices")
def _farm_prices(inputs):
    product = str(inputs.get("product", ""))
    if product not in FARM_PRODUCTS:
        raise Refusal("NOT_FOUND", "暂无该品种的价格行情")
    name, around = FARM_PRODUCTS[product]
    price = around * pick(product, 85, 115) // 100
    return {
        "product": product,
        "name": name,
        "market": "枣庄农产品批发市场(示例)",
        "price_fen_per_kg": price,
        "week_change_percent": pick(product + "w", -8, 8),
    }


@answers("prepaid-card")
def _prepaid_card(inputs):
    code = key_input(inputs, "credit_code", "统一社会信用代码", "商家").upper()
    return {
        "credit_code": code,
        "merchant": one_of(code, ["枣庄示例健身有限公司", "市中区示例美容美发店", "滕州示例教育培训学校"]),
        "filed": True,
        "filed_on": days_ago(code, 30, 700),
        "deposit_fen": pick(code, 5, 50) * 1_000_000,
    }
