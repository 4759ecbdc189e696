"""Catalog search: the queries a citizen types and the service each must show first."""

import time

import pytest
from pypinyin import lazy_pinyin

from app.catalog import search
from app.catalog.search import PHRASE_FIXES, SearchDoc, index, normalize, syllables

D = SearchDoc
# A live catalog of the demo city: one or more services per cloud, `uses` as a month's calls might look.
CATALOG = [
    # housing (住建云, 公积金中心)
    D("gjj-balance", "住房公积金查询", "Housing provident fund inquiry", ("公积金余额", "缴存明细"), "公积金", 9800),
    D("gjj-loan", "公积金贷款进度查询", "Provident fund loan progress", ("贷款", "房贷"), "公积金", 2100),
    D("gjj-withdraw", "公积金提取预约", "Provident fund withdrawal booking", ("提取", "租房提取"), "公积金", 1500),
    D("gjj-repay", "公积金还款明细", "Provident fund repayments", ("还款", "提前还款"), "公积金", 800),
    D("property-reg", "不动产登记查询", "Real estate registration inquiry", ("房产证", "不动产权证"), "政务办事", 3000),
    D("house-filing", "商品房备案查询", "New home filing inquiry", ("网签", "房产交易"), "政务办事", 900),
    # social security (社保云)
    D(
        "si-records",
        "社保缴费记录查询",
        "Social insurance contribution records",
        ("参保证明", "缴费记录"),
        "社保",
        8700,
    ),
    D("pension", "养老保险个人账户", "Pension personal account", ("养老金", "退休"), "社保", 5200),
    D("medical-ins", "医保账户余额查询", "Medical insurance balance", ("医保卡", "医疗保险"), "社保", 7600),
    D("unemployment", "失业保险金申领", "Unemployment benefit application", ("失业金",), "社保", 600),
    D("work-injury", "工伤保险待遇查询", "Work injury insurance benefits", ("工伤认定",), "社保", 300),
    D("ltc", "长护险待遇查询", "Long-term care insurance", ("长期护理保险",), "社保", 120),
    # energy (节能云): the bills
    D("water-pay", "水费缴纳", "Water bill payment", ("自来水", "water"), "生活缴费", 6400),
    D("power-query", "电费查询", "Electricity bill inquiry", ("用电量",), "生活缴费", 5900),
    D("power-pay", "电费缴纳", "Electricity bill payment", ("供电",), "生活缴费", 6100),
    D("gas-pay", "燃气缴费", "Gas bill payment", ("天然气", "燃气费"), "生活缴费", 4100),
    D("heating-pay", "供暖缴费", "Heating payment", ("暖气费",), "生活缴费", 1800),
    # transport (交通云)
    D("bus-arrival", "公交实时到站", "Bus real-time arrivals", ("公交车", "到站提醒", "bus"), "交通", 9100),
    D("brt-lines", "BRT快速公交线路", "BRT routes", ("快速公交", "线路查询"), "交通", 2000),
    D("coach", "长途汽车客运站时刻", "Long-distance coach timetable", ("长途客运", "车票"), "交通", 700),
    D("violations", "违章查询", "Traffic violation inquiry", ("交通违法", "罚款", "驾驶证"), "交通", 7000),
    D("road-info", "路况信息", "Road conditions", ("拥堵", "道路施工"), "交通", 1100),
    # medical (医疗云)
    D("hospital-booking", "医院挂号", "Hospital appointment", ("预约挂号", "门诊", "看病"), "医疗", 8900),
    D("lab-report", "检验报告查询", "Lab report inquiry", ("化验单", "体检报告"), "医疗", 3300),
    D("vaccine", "疫苗接种预约", "Vaccination booking", ("打疫苗", "儿童疫苗"), "医疗", 1900),
    # tourism (旅游云)
    D("scenic-booking", "景区预约", "Scenic spot booking", ("门票", "台儿庄古城", "抱犊崮", "预约入园"), "旅游", 4800),
    D("tez-tickets", "台儿庄古城门票", "Taierzhuang Ancient Town tickets", ("古城",), "旅游", 3900),
    D("hotels", "酒店住宿查询", "Hotels", ("住宿", "宾馆"), "旅游", 800),
    # environment (环保云)
    D("air", "空气质量", "Air quality", ("空气", "AQI", "PM2.5", "雾霾"), "环保", 2600),
    D("water-quality", "饮用水水质公示", "Drinking water quality", ("水质",), "环保", 400),
    D("noise", "噪声监测", "Noise readings", ("噪音",), "环保", 150),
    # city management, food and drug, work safety
    D("street-report", "城市问题随手拍", "Report a street problem", ("井盖", "路灯", "占道经营", "城管"), "社区", 1300),
    D("fd-licence", "食品药品许可查询", "Food and drug licence inquiry", ("食品经营许可证", "药店"), "政务办事", 700),
    D("fd-complaint", "食品安全投诉举报", "Food safety complaints", ("投诉", "举报"), "政务办事", 500),
    D("hazard", "安全隐患举报", "Report a safety hazard", ("隐患", "安全生产"), "政务办事", 200),
    # education, agriculture, commerce, industry
    D("enrolment", "中小学入学报名", "School enrolment", ("入学", "学区", "招生"), "教育", 2400),
    D("exam-results", "中考成绩查询", "Senior high school entrance exam results", ("中考",), "教育", 1600),
    D("farm-prices", "农产品价格行情", "Farm produce prices", ("农业", "菜价"), "农业", 350),
    D("housekeeping", "家政服务预约", "Housekeeping services", ("保洁", "月嫂"), "社区", 600),
    D("enterprise", "企业服务专区", "Enterprise services", ("营业执照", "办企业"), "政务办事", 450),
    # city services, community, sharing platform
    D("hotline", "12345市长热线", "12345 mayor's hotline", ("咨询", "建议", "投诉"), "政务办事", 3500),
    D("repair", "物业报修", "Property repair request", ("维修", "报修"), "社区", 2700),
    D("notices", "社区公告", "Community notices", ("通知",), "社区", 900),
    D("real-name", "实名认证", "Real-name verification", ("身份证", "认证"), "政务办事", 5000),
]

# (query, the service a citizen expects first)
EXPECTED_FIRST = [
    # Chinese: exact name > name substring > keyword; ties go to the more used service
    ("公积金", "gjj-balance"),
    ("住房公积金查询", "gjj-balance"),
    ("公积金查询", "gjj-balance"),
    ("公积金贷款", "gjj-loan"),
    ("社保", "si-records"),
    ("养老", "pension"),
    ("医保", "medical-ins"),
    ("水费", "water-pay"),
    ("电费查询", "power-query"),
    ("燃气", "gas-pay"),
    ("公交", "bus-arrival"),
    ("挂号", "hospital-booking"),
    ("景区", "scenic-booking"),
    ("台儿庄", "tez-tickets"),
    ("不动产", "property-reg"),
    ("违章", "violations"),
    ("12345", "hotline"),
    ("房贷", "gjj-loan"),
    ("门诊", "hospital-booking"),
    ("公积金！", "gjj-balance"),
    # full pinyin, with or without spaces, and as-you-type prefixes
    ("gongjijin", "gjj-balance"),
    ("gong ji jin", "gjj-balance"),
    ("shebao", "si-records"),
    ("shuifei", "water-pay"),
    ("ranqi", "gas-pay"),
    ("gongjiao", "bus-arrival"),
    ("guahao", "hospital-booking"),
    ("jingqu", "scenic-booking"),
    ("changtu", "coach"),  # 长 in 长途 is chang
    ("changhuxian", "ltc"),  # 长 in 长护险 is chang too (pypinyin alone says zhang)
    ("huankuan", "gjj-repay"),  # 还 in 还款 is huan
    ("kongqizhiliang", "air"),
    ("gongjij", "gjj-balance"),
    # initials, full width, and mixed with characters or with syllables
    ("gjj", "gjj-balance"),
    ("ＧＪＪ", "gjj-balance"),
    ("bdc", "property-reg"),
    ("rqjf", "gas-pay"),
    ("gjj查询", "gjj-balance"),
    ("gjjdk", "gjj-loan"),
    ("gongjjcx", "gjj-balance"),
    # English
    ("housing fund", "gjj-balance"),
    ("bus", "bus-arrival"),
    ("air quality", "air"),
    ("water bill", "water-pay"),
    ("AQI", "air"),
    # one typo: same sound (基/积), another character, a letter of pinyin
    ("住房公基金", "gjj-balance"),
    ("公积全", "gjj-balance"),
    ("医院挂导", "hospital-booking"),
    ("不动产登计", "property-reg"),
    ("社保缴废记录", "si-records"),
    ("gongjijn", "gjj-balance"),
    ("weizhng", "violations"),
    ("yiyuanguhao", "hospital-booking"),
    # words out of order
    ("查询公积金", "gjj-balance"),
]

UNRELATED = ["天气", "天气预报", "火锅", "足球比赛", "qwerty", "iphone", "xyzzy"]


@pytest.fixture(scope="module")
def catalog():
    return index(CATALOG)


@pytest.mark.parametrize(("query", "expected"), EXPECTED_FIRST)
def test_each_query_shows_the_expected_service_first(catalog, query, expected):
    results = catalog.search(query)
    assert results, f"{query!r} found nothing"
    assert results[0][0] == expected, f"{query!r}: {results[:3]}"


def test_the_fixed_list_is_long_and_covers_every_query_kind():
    assert len(EXPECTED_FIRST) >= 25
    codes = {d.code for d in CATALOG}
    assert {e for _, e in EXPECTED_FIRST} <= codes
    assert len(CATALOG) >= 40


def test_gongjijin_queries_find_the_fund_balance_among_the_fund_services(catalog):
    for query in ("公积金", "gjj", "gongjijin"):
        codes = [c for c, _ in catalog.search(query)]
        assert codes[:4] == ["gjj-balance", "gjj-loan", "gjj-withdraw", "gjj-repay"], query


@pytest.mark.parametrize("query", UNRELATED)
def test_unrelated_queries_find_nothing(catalog, query):
    assert catalog.search(query) == []


def test_weaker_kinds_of_hit_score_lower(catalog):
    def score(query, code):
        return dict(catalog.search(query))[code]

    exact, in_name, in_keyword = (
        score("电费查询", "power-query"),
        score("公积金", "gjj-balance"),
        score("房贷", "gjj-loan"),
    )
    sound, typo = score("住房公基金", "gjj-balance"), score("公积全", "gjj-balance")
    assert exact > in_name > in_keyword > sound > typo > 0


def test_empty_and_blank_queries_find_nothing(catalog):
    for query in ("", "   ", "\u3000\t", "！？。", None):
        assert catalog.search(query) == []


def test_long_queries_are_cut_to_fifty_characters(catalog):
    query = "住房公积金查询" + "啊" * 43 + "电费查询"  # the service named at the end falls past the cut
    assert catalog.search(query) == catalog.search(query[:50])
    assert all(code != "power-query" for code, _ in catalog.search(query))


def test_limit(catalog):
    assert len(catalog.search("查询", limit=3)) == 3
    assert catalog.search("查询", limit=0) == []


def test_ties_go_to_the_more_used_service_then_the_code():
    docs = [D("b", "水费缴纳", uses=5), D("a", "水费缴纳", uses=5), D("c", "水费缴纳", uses=9)]
    assert [c for c, _ in index(docs).search("水费")] == ["c", "a", "b"]


def test_documents_from_a_json_cache_work_like_the_originals():
    doc = SearchDoc(**{"code": "x", "name_zh": "燃气缴费", "keywords": ["天然气"], "category": "生活缴费"})
    assert doc.keywords == ("天然气",)
    assert index([doc]).search("天然气")[0][0] == "x"


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("银行", "yin hang"),
        ("重庆", "chong qing"),
        ("长途", "chang tu"),
        ("公积金", "gong ji jin"),
        ("医保", "yi bao"),
        ("社保", "she bao"),
        ("缴费", "jiao fei"),
        ("挂号", "gua hao"),
        ("水费", "shui fei"),
        ("电费", "dian fei"),
        ("燃气", "ran qi"),
        ("公交", "gong jiao"),
        ("景区", "jing qu"),
        ("行驶证", "xing shi zheng"),
        ("还款", "huan kuan"),
        ("公积金还款", "gong ji jin huan kuan"),
        ("长护险", "chang hu xian"),
        ("重名查询", "chong ming cha xun"),
        ("单县", "shan xian"),
        ("旅游", "lv you"),
        ("brt快速公交", "brt kuai su gong jiao"),
    ],
)
def test_readings_of_service_words(word, reading):
    assert " ".join(syllables(word)) == reading


def test_readings_are_pypinyins_own_outside_the_fixes():
    texts = {normalize(t) for d in CATALOG for t in (d.name_zh, *d.keywords, d.category)}
    texts = {t for t in texts if not any(fix in t for fix in PHRASE_FIXES)}
    assert len(texts) > 100
    for text in texts:
        assert list(syllables(text)) == lazy_pinyin(text), text


def _city_sized_catalog():
    """300 services: the fixture once per district and county, as a city with local variants would have."""
    places = ["", "市中区", "薛城区", "峄城区", "台儿庄区", "山亭区", "滕州市"]
    docs = [
        D(f"{d.code}-{i}", p + d.name_zh, d.name_en, d.keywords, d.category, d.uses)
        for i, p in enumerate(places)
        for d in CATALOG
    ]
    return docs[:300]


def test_speed_of_building_and_searching():
    docs = _city_sized_catalog()
    assert len(docs) == 300
    syllables.cache_clear()  # measure a cold build, as in a fresh worker
    search._word_syllables.cache_clear()
    started = time.perf_counter()
    catalog = index(docs)
    build = time.perf_counter() - started
    queries = [q for q, _ in EXPECTED_FIRST] + UNRELATED
    started = time.perf_counter()
    for i in range(1000):
        catalog.search(queries[i % len(queries)])
    searching = time.perf_counter() - started
    print(f"index of 300 docs: {build * 1000:.1f} ms; 1000 searches: {searching * 1000:.0f} ms")
    # Generous bounds, a multiple of what this machine measures, so a busy machine does not fail them.
    assert build < 1.0
    assert searching < 5.0
