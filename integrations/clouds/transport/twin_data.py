"""The transport twin's bus network: Zaozhuang's BRT and ordinary lines, stops in order (up direction).

Invented but plausible: real road and place names of the city, stop orders and timetables made up.
The down direction runs the same stops in reverse.
"""

from __future__ import annotations

# lineNo | lineName | lineType | first-last bus | fare in yuan (as the system keeps it), then the stops, indented.
_NETWORK = """
B1 | B1路 | BRT | 06:00-21:30 | 2.00
    枣庄学院 文化广场 光明广场 市立医院 君山路 青檀路 龙头路 东湖公园 齐村 孟庄
    龙潭公园 市政府 新城汽车站 黄河路 泰山路 临山公园 火车站
B2 | B2路 | BRT | 06:10-21:00 | 2.00
    市中汽车站 解放路 光明广场 振兴路 建设路 西昌路 渴口 峨山口 坛山 峄城区政府 峄城汽车站
B3 | B3路 | BRT | 06:00-20:30 | 3.00
    枣庄站 新城汽车站 市政府 光明大道东 常庄 沙沟 周营 泥沟 邳庄 运河街道 台儿庄汽车站 台儿庄古城
B4 | B4路 | BRT | 06:20-20:00 | 2.00
    光明广场 市立医院 北安路 枣庄学院 齐村 北庄 店子 西集 山亭区政府 山亭汽车站
B5 | B5路 | BRT | 06:00-20:30 | 3.00
    火车站 临山公园 泰山路 黄河路 新城汽车站 张范 官桥 木石 滕州东站 荆河公园 滕州汽车站
    滕州市中心人民医院
B6 | B6路 | BRT | 06:30-22:00 | 2.00
    光明广场 文化路 青檀路 鑫昌路 君山路 龙头路 东湖公园 市中区政府 解放路 市中汽车站
K3 | K3路快线 | 快线 | 06:30-20:00 | 2.00
    枣庄站 新城汽车站 市政府 龙潭公园 孟庄 东湖公园 光明广场 市立医院 枣庄学院 市中汽车站
101 | 101路 | 普通 | 05:50-21:00 | 1.00
    光明广场 文化路 市妇幼保健院 市中医医院 建华路 振兴路 鑫昌路 青檀路 龙山路 西昌路
    君山路 市立医院 北安路 永安路 枣庄学院
202 | 202路 | 普通 | 06:00-19:30 | 2.00
    新城汽车站 黄河路 长江路 珠江路 泰山路 武夷山路 华山路 嵩山路 临山公园 火车站
    薛城区政府 奚仲广场 常庄 沙沟 周营 薛城经济开发区 陶庄 燕子井 邹坞 枣庄西站
"""


def _parse(table: str) -> list[dict]:
    lines: list[dict] = []
    for row in table.strip("\n").splitlines():
        if row.startswith(" "):
            lines[-1]["stations"] += row.split()
            continue
        number, name, kind, hours, fare = (cell.strip() for cell in row.split("|"))
        first, last = hours.split("-")
        lines.append(
            {
                "lineNo": number,
                "lineName": name,
                "lineType": kind,
                "firstTime": first,
                "lastTime": last,
                "ticketPrice": fare,
                "stations": [],
            }
        )
    return lines


LINES = _parse(_NETWORK)
LINES_BY_NO = {line["lineNo"]: line for line in LINES}
