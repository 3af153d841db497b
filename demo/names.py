"""What the demo city looks like: Shanghai districts, roads, name parts, the service catalogue,
texts people write, and small pure helpers that combine them (no database here).

Everything people read is Simplified Chinese; `demo.seed` seeds the database with it.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from models.community import CommunityStatus

# name, code, centre (lat, lng), jitter in degrees, share of communities, real roads there
DISTRICTS: list[tuple[str, str, tuple[float, float], float, int, list[str]]] = [
    ("浦东新区", "PD", (31.215, 121.565), 0.060, 22,
     ["张杨路", "浦电路", "锦绣路", "杨高南路", "东方路", "金桥路", "川沙路", "高科西路"]),
    ("闵行区", "MH", (31.110, 121.400), 0.050, 13,
     ["七莘路", "虹梅南路", "莘庄路", "都市路", "顾戴路", "春申路", "古美路"]),
    ("宝山区", "BS", (31.360, 121.440), 0.040, 9,
     ["共康路", "友谊路", "牡丹江路", "淞宝路", "呼兰路", "泰和路"]),
    ("徐汇区", "XH", (31.180, 121.437), 0.025, 7,
     ["漕溪北路", "田林路", "龙华中路", "天钥桥路", "凯旋路", "宜山路"]),
    ("杨浦区", "YP", (31.290, 121.525), 0.022, 7,
     ["国和路", "殷行路", "控江路", "黄兴路", "长阳路", "政立路"]),
    ("嘉定区", "JD", (31.350, 121.260), 0.045, 7,
     ["城中路", "塔城路", "博乐路", "墨玉路", "洪德路", "叶城路"]),
    ("松江区", "SJ", (31.040, 121.240), 0.045, 7,
     ["人民北路", "荣乐东路", "新松江路", "沪亭北路", "文诚路", "谷阳北路"]),
    ("普陀区", "PT", (31.250, 121.395), 0.022, 6,
     ["曹杨路", "真北路", "中山北路", "武宁路", "梅川路", "铜川路"]),
    ("静安区", "JA", (31.255, 121.455), 0.022, 6,
     ["共和新路", "延长中路", "大宁路", "万荣路", "彭江路", "西藏北路"]),
    ("长宁区", "CN", (31.212, 121.405), 0.020, 4,
     ["天山路", "古北路", "仙霞路", "虹桥路", "茅台路", "威宁路"]),
    ("虹口区", "HK", (31.272, 121.490), 0.018, 4,
     ["四平路", "曲阳路", "东江湾路", "水电路", "广中路", "大连西路"]),
    ("青浦区", "QP", (31.165, 121.220), 0.040, 4,
     ["公园路", "盈港东路", "诸光路", "华志路", "崧泽大道"]),
    ("黄浦区", "HP", (31.215, 121.482), 0.012, 3,
     ["中山南路", "制造局路", "瞿溪路", "丽园路", "徐家汇路"]),
]  # fmt: skip

# Bounds every demo coordinate stays inside.
LAT_RANGE = (30.9, 31.45)
LNG_RANGE = (121.1, 121.8)

COMMUNITY_PREFIXES = [
    "万科", "绿地", "保利", "中海", "龙湖", "华润", "招商", "金地", "新城", "融创",
    "世茂", "仁恒", "旭辉", "瑞安", "中建", "阳光", "建发", "越秀", "金茂", "中粮",
    "复地", "首开", "华发", "象屿", "大华", "宝华", "上实", "地杰", "万达", "城建",
]  # fmt: skip
COMMUNITY_SUFFIXES = [
    "城市花园", "翡翠湾", "锦绣苑", "名都", "新村", "公寓", "华庭", "雅苑", "御府",
    "滨江苑", "西郊庄园", "东方城", "香榭里", "星河湾", "假日花园", "景苑", "家园",
    "悦府", "花园城", "水岸", "玫瑰园", "四季苑", "世纪苑", "海上名邸", "天御",
]  # fmt: skip
PHASES = ["二期", "三期", "四期", "五期", "六期"]
# community tier and its weight (A: top-rated, high volume … D: new or weak)
TIERS = {"A": 15, "B": 35, "C": 35, "D": 15}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
GIVEN_NAMES = [
    "建国", "建华", "志强", "国庆", "海军", "伟", "军", "强", "磊", "勇", "涛", "斌", "杰",
    "明", "超", "亮", "鹏", "华", "平", "刚", "永红", "卫东", "春生", "德明", "文斌", "志刚",
    "小龙", "晓东", "立新", "红兵",
]  # fmt: skip
NICKNAMES = [
    "阳光", "小雨", "静静", "老王", "大海", "小鱼儿", "晴天", "木子", "安心", "向日葵",
    "一帆风顺", "平安是福", "岁月静好", "开心就好", "云淡风轻", "浦江夜色", "梧桐", "小熊",
    "Lily", "Jason", "糖糖", "豆豆妈", "乐乐爸", "橙子", "花开富贵", "知足常乐",
]  # fmt: skip

# code, name, skill, min_skill_level, duration_minutes, base_price_cents, share of orders
SERVICE_TYPES = [
    ("purifier_install", "净水器安装", "purifier", 1, 90, 8000, 0.08),
    ("filter_replace", "滤芯更换", "purifier", 1, 45, 3000, 0.20),
    ("aircon_clean", "空调清洗", "aircon", 1, 90, 12000, 0.16),
    ("aircon_repair", "空调维修", "aircon", 3, 120, 15000, 0.10),
    ("aircon_install", "空调安装移机", "aircon", 2, 150, 20000, 0.06),
    ("boiler_service", "壁挂炉保养", "boiler", 2, 90, 16000, 0.10),
    ("heater_repair", "热水器维修", "boiler", 2, 90, 10000, 0.10),
    ("appliance_repair", "家电维修", "appliance", 2, 90, 8000, 0.12),
    ("hood_clean", "油烟机清洗", "appliance", 1, 120, 15000, 0.08),
]
# Promises per service (minutes): accept after creation, arrive after the window starts,
# complete after arrival (about 40 % over the usual duration: a few jobs a hundred run over).
SLA_TARGETS = {
    "purifier_install": (30, 30, 125), "filter_replace": (30, 30, 60),
    "aircon_clean": (30, 30, 125), "aircon_repair": (30, 30, 165),
    "aircon_install": (30, 30, 205), "boiler_service": (30, 30, 125),
    "heater_repair": (30, 30, 125), "appliance_repair": (30, 30, 125),
    "hood_clean": (30, 30, 165),
}  # fmt: skip
SKILLS = ["purifier", "aircon", "boiler", "appliance"]
SKILL_NAMES = {
    "purifier": "净水器",
    "aircon": "空调",
    "boiler": "壁挂炉与热水器",
    "appliance": "家电",
}

# Demand factor per skill, January to December (normalised to an average of 1 when used):
# air conditioners peak in summer, boilers and water heaters in winter.
SEASONALITY = {
    "purifier": [1.0] * 12,
    "aircon": [0.6, 0.6, 0.6, 0.6, 1.4, 2.4, 2.6, 2.2, 1.3, 0.6, 0.6, 0.6],
    "boiler": [2.3, 1.7, 1.0, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 1.0, 1.8, 2.2],
    "appliance": [1.0] * 12,
}

DESCRIPTIONS = {
    "purifier_install": ["新买的厨下净水器，需要上门安装", "装修完了，麻烦装一下净水器", ""],
    "filter_replace": ["滤芯提示灯亮了，需要更换", "出水变慢，应该是滤芯到期了", ""],
    "aircon_clean": ["空调开起来有异味，想清洗一下", "卧室挂机和客厅柜机都要清洗", ""],
    "aircon_repair": ["空调不制冷，外机不转", "空调漏水，滴到地板上了", "开机报E1故障码"],
    "aircon_install": ["新空调需要安装", "搬家，空调需要移机", ""],
    "boiler_service": ["壁挂炉入冬前保养一下", "暖气片不热，想检查一下壁挂炉", ""],
    "heater_repair": ["燃气热水器打不着火", "热水器水温忽冷忽热", "热水器有异响"],
    "appliance_repair": ["洗衣机脱水时响声很大", "冰箱冷藏室不制冷", "洗碗机不排水"],
    "hood_clean": ["油烟机吸力变小，想深度清洗", "油烟机油盒满了，顺便清洗一下", ""],
}
CANCEL_REASONS = ["时间有变，改天再约", "问题已经自己解决了", "重复下单了", "家里临时没人"]
COMPLAINTS = [
    "师傅迟到一个多小时，也没有提前打电话",
    "维修后第二天又坏了，希望尽快处理",
    "实际收费比报价高，没有事先说明",
    "上门没有穿鞋套，态度也不太好",
    "清洗后空调还是有异味",
]
REVIEW_TEXTS = {
    5: ["师傅很专业，准时上门", "服务很好，讲解得很清楚，还帮忙检查了其他电器",
        "干活利索，收拾得很干净", "非常满意，下次还找这位师傅", "响应快，第二天就上门了", ""],
    4: ["整体不错，就是比预约时间晚了一点", "服务挺好，价格略贵", "师傅挺耐心的", ""],
    3: ["一般吧，问题解决了但等了很久", "师傅话不多，活干得还行"],
    2: ["上门迟到，沟通也不太顺畅", "清洗不彻底"],
    1: ["修完没两天又坏了", "态度很差，不推荐"],
}  # fmt: skip
RATING_WEIGHTS = {5: 62, 4: 25, 3: 8, 2: 3, 1: 2}
BIO_TEMPLATES = [
    "从事{skills}安装维修{years}年，持证上岗，服务过上千户家庭。",
    "{years}年{skills}维修经验，做事细致，上门必穿鞋套。",
    "专注{skills}服务{years}年，擅长疑难故障排查，价格透明。",
]

# Shapes of the year of history.
# orders per 1,000 households a month, by community tier
TIER_RATES = {"A": (3.5, 6.0), "B": (2.8, 5.0), "C": (2.2, 4.2), "D": (2.0, 3.2)}
# local hour an order is placed → weight
ORDER_HOURS = dict(zip(range(7, 22), [2, 5, 8, 9, 8, 7, 6, 6, 7, 8, 9, 8, 6, 4, 2], strict=True))
SLOT_HOURS = (9, 11, 13, 15, 17, 19)  # local starts of two-hour visit windows
ORDER_SOURCES = {"mini_program": 85, "phone": 10, "proactive": 5}
# Engineers' skill sets: two complementary crews, so one of each covers every service.
CREW_SKILLS = (["purifier", "appliance", "boiler"], ["aircon", "boiler", "appliance"])


def clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def pick(rng: random.Random, weights: dict):
    """A key of `weights`, drawn in proportion to its value."""
    return rng.choices(list(weights), list(weights.values()))[0]


def community_rows(rng: random.Random, n: int, now: datetime) -> list[dict]:
    """n communities spread over the districts, with unique names and codes like SH-PD-0001."""
    taken: set[str] = set()
    serials: Counter[str] = Counter()
    rows, weights = [], [d[4] for d in DISTRICTS]
    for _ in range(n):
        district, code, (lat, lng), jitter, _, roads = rng.choices(DISTRICTS, weights)[0]
        base = rng.choice(COMMUNITY_PREFIXES) + rng.choice(COMMUNITY_SUFFIXES)
        name = next((base + phase for phase in ["", *PHASES] if base + phase not in taken), base)
        while name in taken:
            name = f"{base}{rng.randint(6, 99)}期"
        taken.add(name)
        serials[code] += 1
        rows.append({
            "external_code": f"SH-{code}-{serials[code]:04d}", "name": name,
            "province": "上海市", "city": "上海市", "district": district,
            "address": f"{rng.choice(roads)}{rng.randint(1, 2999)}弄",
            "lat": round(clamp(lat + rng.uniform(-jitter, jitter), LAT_RANGE), 6),
            "lng": round(clamp(lng + rng.uniform(-jitter, jitter) * 1.15, LNG_RANGE), 6),
            "household_count": int(rng.triangular(300, 3000, 1200)),
            "tier": pick(rng, TIERS), "status": CommunityStatus.ACTIVE,
            "created_at": now - timedelta(days=rng.uniform(1200, 1500)),
        })  # fmt: skip
    return rows


def service_rows() -> list[dict]:
    """The service catalogue as rows, each with its `share` of orders (not a column)."""
    keys = ("code", "name", "skill", "min_skill_level", "duration_minutes", "base_price_cents")
    sla = ("sla_accept_minutes", "sla_arrive_minutes", "sla_complete_minutes")
    return [
        {**dict(zip(keys, spec[:-1], strict=True)),
         **dict(zip(sla, SLA_TARGETS[spec[0]], strict=True)), "share": spec[-1]}
        for spec in SERVICE_TYPES
    ]  # fmt: skip


def engineer_profile(
    rng: random.Random, k: int, need: dict[str, int], taken: set[str]
) -> tuple[str, dict[str, int]]:
    """The k-th engineer's unique name and skills (skill → level 1–5), from alternating crews;
    `need` is the level that does every service of a skill."""
    while (name := rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)) in taken:
        pass
    taken.add(name)
    crew = CREW_SKILLS[k % 2]
    if rng.random() < 0.08:  # a specialist in one trade
        return name, {crew[0]: rng.randint(max(need[crew[0]], 3), 5)}
    skills = {skill: max(need[skill], rng.randint(2, 5)) for skill in crew[:2]}
    if rng.random() < 0.5:
        skills[crew[2]] = rng.randint(1, 4)
    return name, skills


def resident_rows(rng: random.Random, comms: list[dict], now: datetime):
    """About 20 residents per community, more in bigger ones; returns (rows, home index of each)."""
    mean_households = sum(c["household_count"] for c in comms) / len(comms)
    rows, homes = [], []
    for c, comm in enumerate(comms):
        share = comm["household_count"] / mean_households * rng.uniform(0.75, 1.25)
        for _ in range(max(4, round(20 * share))):
            homes.append(c)
            rows.append({
                "openid": f"odemo{len(rows) + 1:023d}",  # 28 characters, like WeChat's
                "nickname": rng.choice(NICKNAMES) if rng.random() < 0.7 else None,
                "created_at": now - timedelta(days=rng.uniform(370, 1100)),
                "last_login_at": now - timedelta(days=rng.uniform(0, 90)),
            })  # fmt: skip
    return rows, homes


# Field operations: doors, contacts, and what residents and engineers say about timing.
CONTACT_TITLES = ("先生", "女士")
FAMILY_CONTACTS = ("阿姨", "叔叔", "奶奶", "爷爷")  # a second door is often the parents'
URGE_NOTES = ("师傅大概什么时候到？", "已经过了预约时间了，麻烦催一下", None, None)
DECLINE_REASONS = ("今天已经排满了", "人在外区，赶不过去", "这个型号不熟，建议派其他师傅")
RESCHEDULE_REASONS = (
    "临时要加班，改个时间", "那天家里没人，改到周末", "物业那天停水，换个时间",
    "家里老人住院，过两天再约",
)  # fmt: skip
PROPOSE_REASONS = ("配件明天才到，改到后天上午可以吗？", "前一单耽搁了，能否改到傍晚？")
SECOND_VISIT_REASONS = (
    "需要更换主板，配件到货后二次上门", "外机需补氟，约定二次上门",
    "投诉跟进：安排原工程师上门复查",
)  # fmt: skip
FOLLOW_UP_NOTES = (
    "已电话回访，客户表示理解，补发优惠券一张", "已安排原工程师二次上门，问题已解决",
    "已核实收费明细并退还差价", "已对工程师进行服务规范培训，客户接受道歉",
)  # fmt: skip
# Text the content check holds for staff: contact details and going around the platform.
HELD_QUESTIONS = (
    "家里闲置的空调低价转让，有需要的加微信 kt2026sh", "小区里有没有私人师傅？不走平台便宜点的那种",
)  # fmt: skip
HELD_ANSWERS = ("这个我私下可以帮您弄，加我微信更便宜", "直接打我电话约，不用在平台下单")
HELD_REVIEWS = (
    "师傅手艺不错，以后直接加他微信约就行，比平台便宜", "还行吧，师傅说下次可以不走平台收费",
)  # fmt: skip
# Questions residents ask, each with answers engineers give.
QUESTIONS = {
    "净水器滤芯多久换一次？": ["PP棉一般3到6个月，RO膜2年左右，看水质和用水量。"],
    "空调清洗需要准备什么？": ["把空调下方的家具挪开一点，留出一米左右的空间就行。"],
    "壁挂炉冬天前要保养吗？": ["建议每年入冬前保养一次，清理换热器、检查燃烧和水压。"],
    "热水器出水不热是什么原因？": ["常见是水压低或温控器问题，可以先看看燃气阀是否全开。"],
    "家里水垢多，适合装软水机吗？": ["上海水偏硬，装软水机能明显减少水垢，前置过滤器也要装。"],
    "油烟机多久清洗一次比较好？": ["家里经常炒菜的话半年一次，油盒满了要及时倒。"],
    "空调开暖风有异味正常吗？": ["久不用开机有味道，多半是滤网积灰，清洗后就好了。"],
    "洗衣机脱水时晃得厉害怎么办？": ["先看看底脚是否调平、衣物是否放匀，不行再报修。"],
}
