"""Words the generated sheets are made of: names, places, trades, needs, institutions, employers.

The training-need keyword table here is also the classification rule documented in
docs/defects.md (``unclassified_training_need``): a need is classified when its text contains a
programme's name, one of its name variants, or one of its keywords below.
"""

from __future__ import annotations

SURNAMES = (
    "王王王张张张李李李刘刘杨杨马马马赵陈何魏孙郭周吴徐胡朱高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "蒋蔡余杜叶程苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔汤安常牛包"
)
GIVEN_MALE = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛"  # noqa: E501
GIVEN_FEMALE = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"  # noqa: E501

# Two halves of township and village names; the first township of every county is 城关镇.
PLACE_FIRST = "新东西南北大小上下中石马杨李王高龙金红清青白黄柳桥河峡沟川坪山岭寨堡湾庄营关店园泉水草沙"
PLACE_SECOND = "川坪山岭寨堡湾庄营关店园泉沟河峡滩台塬梁岔湖家林口门坡源屯集铺"
VILLAGE_MIDDLE = ("家", "", "", "")

RELATIONS_CHILD = ("之子", "之女")
RELATIONS_GRANDCHILD = ("之孙子", "之孙女")

EDUCATION_ADULT = (
    ("文盲或半文盲", 8),
    ("小学", 30),
    ("初中", 42),
    ("高中", 13),
    ("中专", 4),
    ("大专及以上", 3),
)
EDUCATION_YOUNG = (("初中", 60), ("高中", 30), ("中专", 10))

SKILL_LEVELS = (("无", 80), ("初级工", 12), ("中级工", 5), ("高级工", 2), ("技师", 1))

# Labour categories of docs/domain.md, plus the non-labour marker the household sheet uses.
TRANSFER = "输转就业劳动力"
FARMING = "从事农业生产和服务的劳动力"
LEADER_CAT = "致富带头人"
TWO_AFTER_CAT = "两后生"
NEW_LABOUR = "新增劳动力"
NON_LABOUR = "非劳动力"

# Which programmes a labour category points to (docs/domain.md). 新增劳动力 points to none: a new
# worker's need decides. Used by the classification rule.
CATEGORY_PROGRAMMES = {
    TRANSFER: ("EMPLOY", "BRAND", "UPSKILL"),
    TWO_AFTER_CAT: ("TWO_AFTER",),
    LEADER_CAT: ("LEADER", "STARTUP"),
    FARMING: ("FARMER",),
}

# Trades (培训工种) per programme; for 两后生 the majors of the diploma course.
TRADES = {
    "EMPLOY": (
        "焊工",
        "中式烹调师",
        "挖掘机驾驶员",
        "家政服务员",
        "保安员",
        "汽车驾驶员",
        "汽车维修工",
        "电工",
        "砌筑工",
        "美发师",
        "缝纫工",
        "育婴员",
        "养老护理员",
    ),
    "TWO_AFTER": (
        "数控技术应用",
        "汽车运用与维修",
        "计算机应用",
        "电子技术应用",
        "学前教育",
        "护理",
        "中餐烹饪与营养膳食",
        "畜牧兽医",
    ),
    "BRAND": ("拉面师", "刺绣工", "藏毯编织工", "中式面点师", "月嫂"),
    "FARMER": (
        "中药材种植",
        "马铃薯种植",
        "设施蔬菜种植",
        "果树栽培",
        "肉牛养殖",
        "肉羊养殖",
        "食用菌栽培",
        "农机驾驶操作",
    ),
    "LEADER": ("合作社经营管理", "乡村旅游经营", "农村电子商务", "特色种养殖"),
    "UPSKILL": ("焊工", "电工", "混凝土工", "叉车司机", "中式烹调师", "架子工"),
    "STARTUP": ("SYB创业", "网络创业", "农村电商创业"),
}

# Keywords that place a free-text need in a programme (besides the programme's names).
NEED_KEYWORDS = {
    "EMPLOY": (
        "电焊",
        "焊工",
        "厨师",
        "烹饪",
        "挖掘机",
        "装载机",
        "家政",
        "保安",
        "驾驶",
        "汽修",
        "汽车维修",
        "电工",
        "就业",
        "美容",
        "美发",
        "缝纫",
        "育婴",
        "护理",
        "砌筑",
        "钢筋",
    ),
    "TWO_AFTER": ("两后生", "学历", "中职", "技校", "职业学校", "职校"),
    "BRAND": ("拉面", "牛肉面", "刺绣", "陇绣", "藏毯", "品牌", "月嫂", "面点"),
    "FARMER": (
        "养殖",
        "种植",
        "中药材",
        "马铃薯",
        "果树",
        "蔬菜",
        "大棚",
        "养牛",
        "养羊",
        "农机",
        "畜牧",
        "兽医",
        "食用菌",
        "花椒",
        "苹果",
    ),
    "LEADER": ("带头人", "致富", "合作社"),
    "UPSKILL": ("提升", "晋级", "高级工", "中级工"),
    "STARTUP": ("创业", "开店", "网店", "电商", "SYB"),
}

# Needs as people state them, with the trade they would pick; every text hits a keyword above.
NEEDS = {
    "EMPLOY": (
        ("想学电焊", "焊工"),
        ("学厨师", "中式烹调师"),
        ("想学开挖掘机", "挖掘机驾驶员"),
        ("家政服务", "家政服务员"),
        ("保安培训", "保安员"),
        ("学汽车驾驶", "汽车驾驶员"),
        ("汽车维修", "汽车维修工"),
        ("想当电工", "电工"),
        ("就业技能", "焊工"),
        ("想学美发", "美发师"),
        ("缝纫技术", "缝纫工"),
        ("育婴员", "育婴员"),
        ("养老护理", "养老护理员"),
        ("外出就业培训", "砌筑工"),
    ),
    "TWO_AFTER": (
        ("上技校学技术", "数控技术应用"),
        ("读中职", "计算机应用"),
        ("学历教育", "汽车运用与维修"),
        ("两后生培训", "电子技术应用"),
        ("上职业学校", "护理"),
        ("职校学幼师", "学前教育"),
    ),
    "BRAND": (
        ("学兰州牛肉拉面", "拉面师"),
        ("陇绣", "刺绣工"),
        ("刺绣", "刺绣工"),
        ("藏毯编织", "藏毯编织工"),
        ("劳务品牌培训", "拉面师"),
        ("当月嫂", "月嫂"),
        ("面点", "中式面点师"),
    ),
    "FARMER": (
        ("养殖技术", "肉羊养殖"),
        ("种植技术", "设施蔬菜种植"),
        ("中药材种植", "中药材种植"),
        ("马铃薯种植", "马铃薯种植"),
        ("果树管理", "果树栽培"),
        ("大棚蔬菜", "设施蔬菜种植"),
        ("养牛", "肉牛养殖"),
        ("养羊", "肉羊养殖"),
        ("农机操作", "农机驾驶操作"),
        ("食用菌", "食用菌栽培"),
    ),
    "LEADER": (
        ("致富带头人培训", "特色种养殖"),
        ("合作社管理", "合作社经营管理"),
        ("带头致富", "乡村旅游经营"),
        ("带头人培训 电商", "农村电子商务"),
    ),
    "UPSKILL": (
        ("技能提升", "焊工"),
        ("岗位技能提升", "电工"),
        ("考高级工", "焊工"),
        ("技能晋级", "叉车司机"),
        ("想考中级工", "混凝土工"),
    ),
    "STARTUP": (
        ("创业培训", "SYB创业"),
        ("想开店", "SYB创业"),
        ("电商创业", "农村电商创业"),
        ("开网店", "网络创业"),
        ("SYB", "SYB创业"),
    ),
}

# What people say when they want training but not anything in particular: fits no programme.
UNCLASSIFIABLE_NEEDS = ("不清楚", "都可以", "看情况", "听安排", "无所谓", "还没想好", "待定", "随便学点啥")

INSTITUTION_BRANDS = (
    "鑫源",
    "宏达",
    "金桥",
    "华鼎",
    "众诚",
    "启航",
    "新希望",
    "博远",
    "正阳",
    "天成",
    "丰泽",
    "瑞丰",
    "腾飞",
    "恒信",
    "陇原",
    "金秋",
    "鸿运",
    "明德",
    "东方",
    "育才",
    "通达",
    "华夏",
    "益民",
    "兴陇",
    "聚贤",
    "远航",
)
PRIVATE_SUFFIXES = ("职业技能培训学校", "职业培训学校", "职业技能培训中心", "技能培训有限公司", "培训学校")

EMPLOYERS = (
    "新疆天山棉纺有限公司",
    "兰州新区现代农业发展有限公司",
    "天津富士康科技有限公司",
    "宁波海天塑机有限公司",
    "苏州立讯精密工业有限公司",
    "深圳市比亚迪股份有限公司",
    "兰州牛肉面餐饮连锁",
    "甘肃建投建设有限公司",
    "酒泉钢铁集团有限责任公司",
    "西安隆基硅材料有限公司",
    "北京家政服务有限公司",
    "本县农民专业合作社",
    "厦门金龙汽车有限公司",
    "青海盐湖工业股份有限公司",
    "广州白云物业管理有限公司",
    "嘉兴服装制造有限公司",
)

FUND_SOURCES = {
    "EMPLOY": (("就业资金", 85), ("扶贫资金", 10), ("其他", 5)),
    "TWO_AFTER": (("其他", 60), ("扶贫资金", 30), ("就业资金", 10)),
    "BRAND": (("就业资金", 80), ("扶贫资金", 20)),
    "FARMER": (("农业专项资金", 80), ("扶贫资金", 20)),
    "LEADER": (("扶贫资金", 70), ("就业资金", 30)),
    "UPSKILL": (("就业资金", 95), ("其他", 5)),
    "STARTUP": (("就业资金", 90), ("扶贫资金", 10)),
}

# Subsidy per trainee in yuan (range), the 2005 standard being 300 yuan at the least.
SUBSIDY = {
    "EMPLOY": (900, 1800),
    "TWO_AFTER": (3000, 3000),
    "BRAND": (2000, 3000),
    "FARMER": (300, 900),
    "LEADER": (1200, 2000),
    "UPSKILL": (600, 1200),
    "STARTUP": (1000, 1500),
}

CERTIFICATE_LEVELS = {
    "EMPLOY": ("初级工", "专项职业能力"),
    "TWO_AFTER": ("中级工",),
    "BRAND": ("初级工", "中级工"),
    "FARMER": ("新型职业农民证书",),
    "LEADER": ("结业证书",),
    "UPSKILL": ("中级工", "高级工"),
    "STARTUP": ("创业培训合格证",),
}

# Ethnic mix of the people, by county name fragment or city code; default mostly Han.
ETHNIC_MIX_BY_NAME = {
    "东乡族自治县": (("东乡族", 80), ("回族", 10), ("汉族", 10)),
    "积石山": (("回族", 35), ("东乡族", 20), ("保安族", 8), ("撒拉族", 7), ("汉族", 30)),
    "张家川": (("回族", 70), ("汉族", 30)),
    "天祝": (("藏族", 35), ("土族", 8), ("汉族", 57)),
    "肃南": (("裕固族", 30), ("藏族", 20), ("汉族", 50)),
    "肃北": (("蒙古族", 40), ("汉族", 60)),
    "阿克塞": (("哈萨克族", 40), ("汉族", 60)),
}
ETHNIC_MIX_BY_CITY = {
    "622900": (("回族", 50), ("东乡族", 8), ("汉族", 42)),
    "623000": (("藏族", 55), ("回族", 10), ("汉族", 35)),
}
ETHNIC_MIX_DEFAULT = (("汉族", 96), ("回族", 4))

# Old revolutionary base areas (革命老区): all of 庆阳 and these counties.
OLD_REVOLUTIONARY_CITIES = {"621000"}
OLD_REVOLUTIONARY_COUNTIES = {"620422", "621228", "621223", "621126", "623024", "621121", "620826", "620825"}
