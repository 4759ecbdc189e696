"""The demo catalog: at least one service in each of the sixteen clouds and the sharing platform, as the
demo city's departments would register them. `flask seed-demo` takes them live (app/catalog/demo_seed.py).

Most inquiries are bound to an operation of their cloud's connector (`via`: connector, operation), which
the cloud's twin answers (integrations/clouds/<cloud>/sandbox.py). The others are bound to each
department's own system under the contract, which the sandbox's department twin answers
(integrations/sandbox/twins/department_answers/): that is how a department adds an inquiry with no code
here. `example` inputs get an answer, `missing` ones the department's "not found". A few `link` services
show the other kind: an H5 page and another mini-program's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from app.city.seed import load_demo_city


@dataclass(frozen=True)
class DemoService:
    code: str
    department: str
    cloud: str
    name: tuple[str, str]  # zh, en
    description: tuple[str, str]
    keywords: tuple[str, ...]
    contact: str
    form: dict | None = None  # inquiries; None for a link
    link: dict | None = None  # a link's binding
    login_required: bool = True
    real_name_required: bool = False
    audience: tuple[str, ...] = ("citizen",)
    districts: tuple[str, ...] = ()  # none: the whole city
    example: dict = field(default_factory=dict)
    missing: dict | None = None
    via: tuple[str, str] | None = None  # (connector, operation); None: the department contract
    allow_stale: bool = False

    @property
    def kind(self) -> str:
        return "link" if self.link else "inquiry"

    @property
    def bound_to_twin(self) -> bool:
        return self.link is None

    @property
    def by_contract(self) -> bool:
        return self.link is None and self.via is None

    def binding(self, department_base_url: str, key_id: str | None) -> dict:
        if self.link:
            return self.link
        if self.via:
            connector, operation = self.via
            stale = self.allow_stale
            return {"type": "connector", "connector": connector, "operation": operation, "allow_stale": stale}
        url = f"{department_base_url.rstrip('/')}/{self.department}/contract"
        return {"type": "contract", "url": url, "key_id": key_id}

    def content(self, department_name: str, department_base_url: str, key_id: str | None) -> dict:
        binding = self.binding(department_base_url, key_id)
        return {
            "name": {"zh": self.name[0], "en": self.name[1]},
            "description": {"zh": self.description[0], "en": self.description[1]},
            "keywords": list(self.keywords),
            "districts": list(self.districts),
            "audience": list(self.audience),
            "login_required": self.login_required,
            "real_name_required": self.real_name_required,
            "privacy_notice": self._privacy_notice(department_name),
            "contact": self.contact,
            "form": self.form,
            "binding": binding,
        }

    def _privacy_notice(self, department_name: str) -> str:
        if self.link:
            return f"本服务由{department_name}提供，打开后适用其页面的隐私说明；本平台不收集您在其中填写的信息。"
        if not self.login_required:
            return f"本服务查询{department_name}公开的信息，不收集您的个人信息。"
        return f"您填写的信息仅用于向{department_name}查询本人的记录，结果只向您本人显示，不作他用。"


def account(title: str, low: int = 6, high: int = 20, description: str | None = None) -> dict:
    field = {"title": title, "x-kind": "account", "minLength": low, "maxLength": high}
    return field | ({"description": description} if description else {})


def choice(title: str, labels: dict[str, str]) -> dict:
    return {"title": title, "x-kind": "choice", "enum": list(labels), "x-labels": labels}


def form(required: bool = True, **fields: dict) -> dict:
    return {"type": "object", "properties": fields, "required": list(fields) if required else []}


def _h5(url: str) -> dict:
    return {"type": "link", "url": url}


def _no_inputs() -> dict:
    return {"type": "object", "properties": {}, "required": []}


@lru_cache(maxsize=1)
def demo_services() -> tuple[DemoService, ...]:
    city = load_demo_city()
    districts = {d["code"]: d["name"] for d in city["districts"]}
    hospitals = {h["code"]: h["name"] for h in city["hospitals"]}
    spots = {s["code"]: s["name"] for s in city["scenic_spots"]}
    communities = {c["code"]: c["name"] for c in city["communities"]}
    # The medical platform's department codes (integrations/clouds/medical) for the common clinics.
    clinics = {"NK": "内科", "WK": "外科", "EK": "儿科", "FCK": "妇产科", "YK": "眼科", "KQK": "口腔科",
               "PFK": "皮肤科", "ZYK": "中医科"}  # fmt: skip
    card = account("社会保障卡号", 9, 12, "社保卡正面的卡号")
    public = {"login_required": False, "audience": ("citizen", "tourist")}
    mine = {"real_name_required": True, "allow_stale": True}  # one's own records, by verified identity
    year = {"title": "年度", "x-kind": "number", "type": "integer", "minimum": 2000, "maximum": 2100}
    credit_code = account("统一社会信用代码", 18, 18)
    # A table, one service to a block: kept as written (fmt: skip), a call per argument would triple it.
    return (
        # city services and industry: 经信委
        DemoService("hotline-case", "jxw", "city_services", ("12345热线工单查询", "12345 hotline case progress"),
                    ("查询您向12345市民热线反映问题的办理进度", "Progress of what you reported to the 12345 hotline"),
                    ("12345", "市长热线", "工单", "投诉", "咨询"), "0632-12345",
                    form(case_no=account("工单编号", 8, 20)), example={"case_no": "ZZ2026112001"},
                    missing={"case_no": "ZZ2026112000"}, via=("city_services", "case_progress"), allow_stale=True),
        DemoService("affairs-guide", "jxw", "city_services", ("办事指南", "Guides to government procedures"),
                    ("办理身份证、户口、营业执照等事项需要什么材料、去哪里办", "What to bring and where to go"),
                    ("办事指南", "政务服务", "材料", "怎么办", "办事"), "0632-12345",
                    form(keyword={"title": "事项", "x-kind": "text", "maxLength": 20, "description": "如 身份证"}),
                    **public, example={"keyword": "身份证"}, via=("city_services", "procedure_guide"),
                    allow_stale=True),
        DemoService("hotline", "jxw", "city_services", ("12345市长热线", "12345 mayor's hotline"),
                    ("在线反映问题、提出建议或咨询政策", "Report a problem, make a suggestion or ask"),
                    ("12345", "咨询", "建议", "投诉", "热线"), "0632-12345",
                    link=_h5("https://12345.zaozhuang.example.cn/h5/"), login_required=False),
        DemoService("tech-subsidy", "jxw", "industry", ("技改项目补助申报进度", "Technical upgrade subsidy progress"),
                    ("工业企业技术改造补助资金的申报和拨付进度", "Where a factory's upgrade subsidy application is"),
                    ("技改", "补助", "工业企业", "申报"), "0632-12345",
                    form(application_no=account("申报编号", 8, 20)), audience=("enterprise",),
                    example={"application_no": "JG2026000123"}, missing={"application_no": "JG2026000120"},
                    via=("industry", "subsidy_progress"), allow_stale=True),
        # the information-sharing platform's legal-entity register, offered by 经信委 (the platform's lead)
        DemoService("legal-entity", "jxw", "sharing", ("企业信用信息查询", "Company registration lookup"),
                    ("按统一社会信用代码查企业名称、状态和经营范围", "A company's name, status and scope by its code"),
                    ("企业", "统一社会信用代码", "营业执照", "法人", "公司"), "0632-12345",
                    form(credit_code=credit_code), login_required=False, audience=("citizen", "enterprise"),
                    example={"credit_code": "91370402MA3C12047T"}, missing={"credit_code": "91370402MA3C981000"},
                    via=("sharing", "legal_entity"), allow_stale=True),
        # energy: the bills (经信委 for the utility companies)
        DemoService("water-bill", "jxw", "energy", ("水费查询", "Water bill inquiry"),
                    ("本月水费、用水量和欠费情况", "This month's water use, bill and arrears"),
                    ("水费", "自来水", "用水量", "欠费", "water"), "0632-12345",
                    form(account_no=account("户号", 6, 12, "水费单上的用户号")),
                    example={"account_no": "10203041"}, missing={"account_no": "10203040"},
                    via=("energy", "water_bills"), allow_stale=True),
        DemoService("power-query", "jxw", "energy", ("电费查询", "Electricity bill inquiry"),
                    ("本月电费、用电量和欠费情况", "This month's electricity use, bill and arrears"),
                    ("电费", "用电量", "供电", "欠费"), "0632-95598",
                    form(account_no=account("户号", 6, 12, "电费单上的户号")),
                    example={"account_no": "3700012345"}, missing={"account_no": "3700012340"},
                    via=("energy", "power_bills"), allow_stale=True),
        DemoService("gas-bill", "jxw", "energy", ("燃气费查询", "Gas bill inquiry"),
                    ("本月燃气费、用气量和欠费情况", "This month's gas use, bill and arrears"),
                    ("燃气", "天然气", "燃气费", "欠费"), "0632-12345",
                    form(account_no=account("户号", 6, 12, "燃气卡或缴费单上的户号")),
                    districts=("370402", "370403", "370404", "370405", "370406"),
                    example={"account_no": "66001234567"}, missing={"account_no": "66001234560"},
                    via=("energy", "gas_bills"), allow_stale=True),
        # community: 民政局, 住建局
        DemoService("community-finder", "mzj", "community", ("我的社区", "Find your community"),
                    ("各区县社区居委会和物业公司的地址、电话", "Community offices and property companies"),
                    ("社区", "居委会", "物业公司", "物业电话"), "0632-12345",
                    form(required=False, district=choice("区县", districts)), **public,
                    example={"district": "370402"}, via=("community", "communities"), allow_stale=True),
        DemoService("property-bill", "mzj", "community", ("物业费查询", "Property fee inquiry"),
                    ("物业费账单和欠费情况", "Your property fee bills and arrears"),
                    ("物业费", "物业", "欠费", "小区"), "0632-12345",
                    form(account_no=account("物业户号", 6, 12, "物业缴费单上的户号")),
                    example={"account_no": "GM0302501"}, missing={"account_no": "GM0302500"},
                    via=("community", "property_bills"), allow_stale=True),
        DemoService("elderly-allowance", "mzj", "community", ("高龄津贴发放查询", "Old-age allowance payments"),
                    ("80周岁以上老人高龄津贴的标准和发放记录", "The allowance for people over 80, and its payments"),
                    ("高龄津贴", "老年人", "养老", "补贴"), "0632-12345",
                    form(card_no=card), real_name_required=True,
                    example={"card_no": "A37040281"}, missing={"card_no": "A37040280"}),
        DemoService("repair", "zjj", "community", ("物业报修", "Property repair request"),
                    ("小区公共设施和户内维修报修", "Report a repair in your estate or home"),
                    ("报修", "维修", "物业", "漏水"), "0632-12319",
                    link={"type": "link", "miniprogram_app_id": "wx0000demo0000wuye",
                          "miniprogram_path": "pages/repair/index"}),
        # housing: 住建局, 公积金中心
        DemoService("house-filing", "zjj", "housing", ("商品房网签备案查询", "New home contract filing"),
                    ("购房合同的网签备案状态", "Whether your home purchase contract is filed"),
                    ("网签", "备案", "商品房", "房产交易"), "0632-12319",
                    form(contract_no=account("网签合同编号", 8, 20)),
                    example={"contract_no": "WQ2026110357"}, missing={"contract_no": "WQ2026110350"}),
        DemoService("gjj-balance", "gjj", "housing", ("住房公积金余额查询", "Housing provident fund balance"),
                    ("公积金账户余额、月缴存额和最近缴存月份", "Balance, monthly deposit and last deposit"),
                    ("公积金", "公积金余额", "缴存", "住房公积金"), "0632-12329",
                    _no_inputs(), **mine, via=("housing", "fund_account")),
        DemoService("gjj-records", "gjj", "housing", ("公积金缴存明细", "Provident fund records"),
                    ("近几个月的公积金缴存和提取明细", "Deposits and withdrawals of recent months"),
                    ("公积金明细", "缴存明细", "提取", "公积金"), "0632-12329",
                    form(required=False, months={"title": "最近几个月", "x-kind": "number", "type": "integer",
                                                 "minimum": 1, "maximum": 36}),
                    **mine, example={"months": 6}, via=("housing", "fund_records")),
        DemoService("gjj-loan", "gjj", "housing", ("公积金贷款进度查询", "Provident fund loan progress"),
                    ("公积金贷款申请的审批和放款进度", "Where your provident fund loan application is"),
                    ("公积金贷款", "贷款", "房贷", "审批进度"), "0632-12329",
                    _no_inputs(), **mine, via=("housing", "loan_progress")),
        # medical: 卫计委
        DemoService("doctor-schedule", "wjw", "medical", ("医生出诊安排", "Doctors' schedules"),
                    ("各医院科室近几天的医生出诊时间和余号", "Which doctors see patients when, and slots left"),
                    ("出诊", "排班", "专家", "医生", "余号"), "0632-12320",
                    form(hospital=choice("医院", hospitals), department=choice("科室", clinics)),
                    **public, example={"hospital": "zzslyy", "department": "EK"},
                    missing={"hospital": "zzszyyy", "department": "EK"}, via=("medical", "schedules"),
                    allow_stale=True),
        DemoService("lab-report", "wjw", "medical", ("检验报告查询", "Lab report inquiry"),
                    ("在枣庄的医院做的血常规等检验的结果", "Results of blood tests done at a Zaozhuang hospital"),
                    ("检验报告", "化验单", "体检报告", "检查结果"), "0632-12320",
                    form(hospital=choice("医院", hospitals), barcode=account("条码号", 8, 16, "检验单上的条码号")),
                    real_name_required=True, example={"hospital": "zzslyy", "barcode": "2026112000123"},
                    missing={"hospital": "zzslyy", "barcode": "2026112000120"}),
        DemoService("hospital-booking", "wjw", "medical", ("医院预约挂号", "Hospital appointment booking"),
                    ("市立医院等医院的门诊预约挂号", "Book an outpatient appointment"),
                    ("挂号", "预约挂号", "门诊", "看病"), "0632-12320",
                    link=_h5("https://yy.zaozhuang.example.cn/h5/booking")),
        # tourism: 旅游服务发展委员会
        DemoService("scenic-flow", "lfw", "tourism", ("景区实时客流", "Scenic spot visitor numbers"),
                    ("台儿庄古城等景区现在的游客数和舒适度", "How busy Taierzhuang and other spots are now"),
                    ("景区", "客流", "台儿庄古城", "抱犊崮", "旅游"), "0632-12301",
                    form(spot=choice("景区", spots)), **public, example={"spot": "tezgc"},
                    via=("tourism", "spot_status")),
        # social security: 人社局
        DemoService("si-records", "rsj", "social_security", ("社保参保信息查询", "Social insurance records"),
                    ("参保状态、缴费基数和累计缴费月数", "Your insurances, contribution base and months paid"),
                    ("社保", "参保证明", "参保信息", "养老保险", "医疗保险"), "0632-12333",
                    _no_inputs(), **mine, via=("social_security", "insured_info")),
        DemoService("si-contributions", "rsj", "social_security", ("社保缴费记录", "Social insurance contributions"),
                    ("某一年每个月的社保缴费明细", "Month by month contributions of a year"),
                    ("缴费记录", "社保缴费", "缴费明细", "社保"), "0632-12333",
                    form(required=False, year=year), **mine, example={"year": 2025},
                    via=("social_security", "contributions")),
        DemoService("pension-account", "rsj", "social_security", ("养老保险个人账户", "Pension account"),
                    ("养老保险个人账户余额和累计缴费月数", "Your pension account balance and months paid"),
                    ("养老金", "养老保险", "个人账户", "退休"), "0632-12333",
                    _no_inputs(), **mine, via=("social_security", "pension_account")),
        DemoService("medical-ins", "rsj", "social_security", ("医保个人账户余额", "Medical insurance balance"),
                    ("医保个人账户余额和最近一次划入", "Your medical insurance account balance"),
                    ("医保", "医保卡", "医疗保险", "余额"), "0632-12333",
                    form(card_no=card), real_name_required=True,
                    example={"card_no": "B37040233"}, missing={"card_no": "B37040230"}),
        # transport: 交通运输局
        DemoService("bus-arrival", "jtj", "transport", ("公交实时到站", "Bus real-time arrivals"),
                    ("下一班公交车还有几站、几分钟到", "How far the next buses are from your stop"),
                    ("公交", "公交车", "到站", "BRT", "bus"), "0632-12328",
                    form(line={"title": "线路", "x-kind": "text", "pattern": "^[A-Z]{0,3}[0-9]{1,3}$",
                               "description": "如 B1、K3、101"},
                         stop={"title": "站点", "x-kind": "text", "maxLength": 20}),
                    **public, example={"line": "B1", "stop": "光明广场"}, missing={"line": "B10", "stop": "光明广场"},
                    via=("transport", "arrivals")),
        # environment: 环保局
        DemoService("air", "hbj", "environment", ("空气质量", "Air quality"),
                    ("各区县的空气质量指数和首要污染物", "Air quality index of each district"),
                    ("空气", "空气质量", "AQI", "PM2.5", "雾霾"), "0632-12369",
                    form(required=False, district=choice("区县", districts)), **public,
                    example={"district": "370405"}, via=("environment", "air_quality"), allow_stale=True),
        # city management: 城管局
        DemoService("cg-case", "cgj", "city_management", ("城市问题办理进度", "City problem report progress"),
                    ("随手拍反映的井盖、路灯、占道经营等问题的处理进度", "Progress of a street problem you reported"),
                    ("随手拍", "城管", "井盖", "路灯", "占道经营"), "0632-12319",
                    form(case_no=account("问题编号", 8, 20)),
                    example={"case_no": "CG2026110087"}, missing={"case_no": "CG2026110080"},
                    via=("city_management", "case_progress"), allow_stale=True),
        # food and drug: 食药监局
        DemoService("fd-licence", "syj", "food_drug", ("食品药品许可证查询", "Food and drug licence inquiry"),
                    ("餐馆、食品店和药店的许可证是否有效", "Whether a restaurant's or pharmacy's licence is valid"),
                    ("食品经营许可证", "药品经营许可证", "许可证", "药店", "餐馆"), "0632-12331",
                    form(licence_no=account("许可证编号", 8, 20, "如 JY13704020012345")),
                    login_required=False, audience=("citizen", "enterprise"),
                    example={"licence_no": "JY13704020012345"}, missing={"licence_no": "JY13704020012340"},
                    via=("food_drug", "licence"), allow_stale=True),
        DemoService("drug-recalls", "syj", "food_drug", ("食品药品召回公告", "Food and drug recalls"),
                    ("近期召回的食品、药品和医疗器械", "Food, drugs and devices recalled lately"),
                    ("召回", "问题食品", "药品召回", "食品安全"), "0632-12331",
                    form(required=False,
                         category=choice("类别", {"food": "食品", "drug": "药品", "device": "医疗器械"})),
                    **public, example={"category": "drug"}, via=("food_drug", "recalls"), allow_stale=True),
        # work safety: 安监局
        DemoService("safety-cert", "ajj", "work_safety", ("特种作业操作证查询", "Special operation certificate"),
                    ("电工、焊工等特种作业操作证的真伪和有效期", "Whether a work safety certificate is valid"),
                    ("特种作业", "操作证", "安全生产", "电工证", "焊工证"), "0632-12350",
                    form(cert_no=account("证书编号", 8, 20)), login_required=False,
                    audience=("citizen", "enterprise"),
                    example={"cert_no": "TZ2026004561"}, missing={"cert_no": "TZ2026004560"},
                    via=("work_safety", "certificate"), allow_stale=True),
        # education: 教育局
        DemoService("school-zone", "jyj", "education", ("学区划分查询", "School enrolment zones"),
                    ("您所在社区今年对口的小学和初中", "The schools your community is zoned for this year"),
                    ("学区", "划片", "对口学校", "入学", "小学", "初中"), "0632-12345",
                    form(district=choice("区县", districts), community=choice("社区", communities)), **public,
                    example={"district": "370402", "community": "demo-guangming"},
                    via=("education", "enrolment_zone"), allow_stale=True),
        DemoService("exam-results", "jyj", "education", ("中考成绩查询", "Senior high school entrance exam results"),
                    ("各科成绩和总分", "Scores of each subject and the total"),
                    ("中考", "成绩", "分数", "录取"), "0632-12345",
                    form(exam_no=account("准考证号", 8, 12)),
                    example={"exam_no": "202603700123"}, missing={"exam_no": "202603700120"}),
        # agriculture: 农业局
        DemoService("farm-prices", "nyj", "agriculture", ("农产品价格行情", "Farm produce prices"),
                    ("枣庄农产品批发市场的今日价格", "Today's prices at the Zaozhuang wholesale market"),
                    ("农产品", "菜价", "价格", "石榴", "马铃薯"), "0632-12316",
                    form(product=choice("品种", {"cabbage": "大白菜", "potato": "马铃薯", "garlic": "大蒜",
                                                 "egg": "鸡蛋", "pork": "猪肉", "pomegranate": "石榴"})),
                    **public, example={"product": "pomegranate"}, via=("agriculture", "prices"), allow_stale=True),
        # commerce: 商务局
        DemoService("prepaid-card", "swj", "commerce", ("预付卡商家备案查询", "Prepaid card merchant filing"),
                    ("办卡前查一查商家是否备案、存管了多少资金", "Before buying a prepaid card, check the merchant"),
                    ("预付卡", "办卡", "商家", "备案", "消费维权"), "0632-12312",
                    form(credit_code=credit_code), login_required=False, audience=("citizen", "enterprise"),
                    example={"credit_code": "91370402MA3C12345M"}, missing={"credit_code": "91370402MA3C1234X0"},
                    via=("commerce", "prepaid_merchant"), allow_stale=True),
        # the information-sharing platform: 公安局's population records
        DemoService("id-card-progress", "gaj", "sharing", ("居民身份证办理进度", "ID card application progress"),
                    ("申领、换领居民身份证的制证和领取进度", "Where your new ID card is"),
                    ("身份证", "办证进度", "户籍", "换证"), "0632-12345",
                    form(receipt_no=account("受理回执编号", 8, 20)), real_name_required=True,
                    example={"receipt_no": "SL2026112000071"}, missing={"receipt_no": "SL2026112000070"}),
    )  # fmt: skip
