"""The sharing platform twin's legal-entity register (法人库): invented Zaozhuang market entities.

Every code is a valid unified social credit code (GB 32100-2015, with a valid GB 11714 organization code
inside); the fields are the register's own pinyin abbreviations; registered capital is in 万元 as the
register keeps it. 枣庄示例健身有限公司 is the demo's prepaid-card merchant; the employers of the demo
citizens in the social security and housing twins are here too.

A valid code not listed, e.g. 91370402MA3C981000 or 91370481MA3K7R4D4M, is unknown to the register.
"""

from __future__ import annotations

# tyshxydm | qymc | qylx, then indented: fddbr | zczb (万元, empty where none) | clrq | djzt | djjg, zs, jyfw.
_REGISTER = """
91370402MA3C12047T | 枣庄示例健身有限公司 | 有限责任公司（自然人独资）
    周建华 | 100 | 2019-04-16 | 存续（在营、开业、在册） | 枣庄市市中区市场监督管理局
    山东省枣庄市市中区光明路街道君山中路116号
    健身休闲活动；体育健康服务；体育用品及器材零售；会员制预付卡发行（单用途）
91370403168312075J | 枣庄鲁南机械制造有限公司 | 有限责任公司（自然人投资或控股）
    张国强 | 2000 | 2003-09-18 | 在业 | 枣庄市薛城区市场监督管理局
    山东省枣庄市薛城区常庄街道光明大道西888号
    矿山机械制造；通用设备制造（不含特种设备制造）；金属材料销售；货物进出口
913704025787734646 | 山东鲁南恒达物流有限公司 | 有限责任公司（自然人投资或控股）
    王海峰 | 5000 | 2011-06-08 | 存续（在营、开业、在册） | 枣庄市市中区市场监督管理局
    山东省枣庄市市中区西王庄镇鲁南物流园8号
    道路货物运输（不含危险货物）；普通货物仓储服务（不含危险化学品等需许可审批的项目）；装卸搬运
91370403MA3U5K829B | 枣庄高新区云帆信息科技有限公司 | 有限责任公司（自然人投资或控股）
    刘志远 | 300.5 | 2020-11-03 | 存续（在营、开业、在册） | 枣庄高新技术产业开发区市场监督管理局
    山东省枣庄市高新区互联网小镇B座1203室
    软件开发；信息系统集成服务；数据处理和存储支持服务；技术服务、技术开发、技术咨询
91370481672239188N | 滕州市善国食品股份有限公司 | 股份有限公司（非上市、自然人投资或控股）
    孙庆林 | 8000 | 2008-02-26 | 在业 | 滕州市市场监督管理局
    山东省滕州市经济开发区善国北路1999号
    食品生产；食品销售；农副产品收购；粮食加工食品生产
91370405553987618T | 台儿庄古城文化旅游发展有限公司 | 有限责任公司（国有独资）
    马德胜 | 50000 | 2010-05-12 | 存续（在营、开业、在册） | 枣庄市台儿庄区市场监督管理局
    山东省枣庄市台儿庄区运河街道古城大衙门街1号
    旅游景区管理；组织文化艺术交流活动；酒店管理；停车场服务
933704040924517729 | 枣庄市峄城区青檀石榴种植农民专业合作社 | 农民专业合作社
    李守田 | 120 | 2014-03-20 | 存续（在营、开业、在册） | 枣庄市峄城区市场监督管理局
    山东省枣庄市峄城区榴园镇王府山村
    石榴种植、销售；组织收购、销售成员种植的农产品；为成员提供农业技术培训
92370402MA3F6P2L17 | 市中区示例美容美发店 | 个体工商户
    陈小梅 |  | 2017-08-09 | 吊销，未注销 | 枣庄市市中区市场监督管理局
    山东省枣庄市市中区文化路街道建设路66号
    理发服务；生活美容服务
91370404754461276T | 枣庄市峄城区华康商贸有限公司 | 有限责任公司（自然人投资或控股）
    高文斌 | 50 | 2003-11-27 | 注销 | 枣庄市峄城区市场监督管理局
    山东省枣庄市峄城区坛山街道承水中路218号
    日用百货、五金交电、建筑材料销售
"""

FIELDS = ("tyshxydm", "qymc", "qylx", "fddbr", "zczb", "clrq", "djzt", "djjg")


def _parse(text: str) -> dict[str, dict]:
    register, lines = {}, [line for line in text.splitlines() if line.strip()]
    for head, more, address, scope in zip(lines[::4], lines[1::4], lines[2::4], lines[3::4], strict=True):
        record = dict(zip(FIELDS, (part.strip() for part in f"{head}|{more}".split("|")), strict=True))
        if record["zczb"]:
            record["zczb"] = f"{float(record['zczb']):.6f}"  # as the register prints it: 100.000000
        record |= {"zczbbz": "人民币" if record["zczb"] else "", "zs": address.strip(), "jyfw": scope.strip()}
        register[record["tyshxydm"]] = record
    return register


LEGAL_ENTITIES = _parse(_REGISTER)
