#!/usr/bin/env python3
"""A dirty Chinese customer list with known duplicates, for testing dedup.

This generator is independent of `rolo gen`: its own name, address and
company pools and its own corruptions, so that rolo's duplicate detection is
measured against errors it was not written alongside.

Originals: about n/1.35 people (so that the rows come to exactly n) with
names drawn by real surname frequency (王 李 张 ... and a few 欧阳 司马 诸葛),
given names of one or two common characters (so 张伟, 王芳, 李娜 repeat across
different people), mobiles, pinyin or QQ-number e-mails (a quarter empty),
companies (half filled), province, city, street address, postcode (per
district), birth date (70% filled) and gender.

About 30% of the people get 1 to 3 copies. Each copy applies 1 to 4
different corruptions, drawn at random among those that still apply:

  name      one character or the whole name in traditional form (张伟 -> 張偉);
            a homophone or look-alike character (伟 -> 玮, 王 -> 汪); a space or
            middle dot inside (张 伟, 张·伟); pinyin (Zhang Wei, Wei Zhang,
            ZHANG WEI); the last character missing (names of three or more
            characters); surname plus a title
            (张先生, 王女士, 李小姐, 刘总) instead of the name
  phone     +86 / 86 / 0086 prefix; spaces or dashes (138 0013 8000);
            full-width digits; one digit changed; missing; the household
            landline (010-88881234) instead of the mobile
  email     upper case; another provider with the same local part; missing;
            a new unrelated address
  company   legal form dropped or changed (有限公司, 股份有限公司,
            有限责任公司, none); the city prefix dropped; missing
  address   province and city repeated inside 详细地址; 号 written as #; the
            room dropped; one digit of the house number changed; the district
            dropped; missing; city with or without 市; province short form
  postcode  missing or one digit changed
  birth     another format (1990/3/4, 19900304, 1990年3月4日, 3/4/1990, ...),
            day and month swapped, or missing
  gender    missing

Every row keeps at least a name, a phone or an e-mail (no corruption blanks
the name, and a copy is checked once more before it is written).

Hard negatives, planted on purpose and NOT in the truth file:

  namesakes  a new person with the full name of an earlier one, everything
             else their own (a third of them in the same city)
  family     same surname, same household (city, district, street address,
             postcode, often the same landline as phone), another given name
             (siblings sometimes share its first character) and birth date
  colleagues same company and city as an earlier person, another name

Usage:
  python3 scripts/zh_dirty.py --n 5000 --seed 7 --out DIR [--bom]

writes DIR/customers.csv (客户编号 姓名 手机 邮箱 公司 省份 城市 详细地址 邮编 生日
性别; 客户编号 is unique per row) and DIR/truth.csv (id_a,id_b: every pair of
rows of the same person, id_a < id_b), and prints a one-line summary to
stderr. Other scripts can `from zh_dirty import generate` and call
generate(n, seed) -> (header, rows, truth). Output depends only on n and seed.
"""

import argparse
import csv
import os
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

HEADER = ["客户编号", "姓名", "手机", "邮箱", "公司", "省份", "城市",
          "详细地址", "邮编", "生日", "性别"]

# ---------------------------------------------------------------- names

# Surnames with their approximate share of the population (per 10,000).
SURNAMES = [
    ("王", 712), ("李", 700), ("张", 674), ("刘", 510), ("陈", 461),
    ("杨", 322), ("黄", 245), ("赵", 219), ("吴", 205), ("周", 191),
    ("徐", 152), ("孙", 151), ("马", 144), ("朱", 126), ("胡", 116),
    ("郭", 115), ("何", 106), ("林", 101), ("高", 100), ("罗", 95),
    ("郑", 87), ("梁", 83), ("谢", 72), ("宋", 68), ("唐", 66),
    ("许", 63), ("韩", 62), ("冯", 61), ("邓", 60), ("曹", 59),
    ("彭", 55), ("曾", 54), ("肖", 53), ("田", 52), ("董", 51),
    ("袁", 49), ("潘", 48), ("于", 47), ("蒋", 46), ("蔡", 45),
    ("余", 44), ("杜", 43), ("叶", 42), ("程", 41), ("苏", 40),
    ("魏", 39), ("吕", 38), ("丁", 37), ("任", 36), ("沈", 35),
    ("姚", 34), ("卢", 33), ("姜", 32), ("崔", 31), ("钟", 30),
    ("谭", 29), ("陆", 28), ("汪", 27), ("范", 26), ("金", 25),
    ("石", 24), ("廖", 23), ("贾", 22), ("夏", 21), ("韦", 20),
    ("付", 19), ("方", 18), ("白", 17), ("邹", 16), ("孟", 15),
    ("熊", 15), ("秦", 14), ("邱", 14), ("江", 13), ("尹", 13),
    ("薛", 12), ("闫", 12), ("段", 11), ("雷", 11), ("侯", 10),
    ("龙", 10), ("史", 10), ("陶", 10), ("黎", 9), ("贺", 9),
    ("顾", 9), ("毛", 9), ("郝", 8), ("龚", 8), ("邵", 8),
    ("万", 8), ("钱", 8), ("严", 7), ("覃", 7), ("武", 7),
    ("戴", 7), ("莫", 7), ("孔", 7), ("向", 6), ("汤", 6),
    ("欧阳", 5), ("司马", 1), ("诸葛", 1), ("上官", 1), ("皇甫", 1),
    ("慕容", 1),
]

# One-character given names, weighted so that the common ones repeat.
MALE_GIVEN = [
    ("伟", 7), ("强", 5), ("磊", 5), ("军", 5), ("洋", 5), ("勇", 5),
    ("杰", 5), ("涛", 5), ("明", 4), ("超", 4), ("刚", 4), ("平", 3),
    ("辉", 3), ("鹏", 3), ("华", 3), ("飞", 3), ("鑫", 3), ("波", 3),
    ("斌", 3), ("宇", 3), ("浩", 3), ("凯", 2), ("健", 2), ("俊", 2),
    ("帆", 2), ("帅", 2), ("旭", 2), ("宁", 2), ("龙", 2), ("峰", 2),
    ("亮", 2), ("成", 2), ("东", 2), ("文", 2), ("博", 2), ("兵", 2),
    ("锋", 2), ("雷", 2), ("阳", 2), ("晨", 2), ("坤", 1), ("威", 1),
    ("毅", 1), ("彬", 1), ("林", 1), ("海", 1),
]
FEMALE_GIVEN = [
    ("芳", 6), ("娜", 5), ("敏", 5), ("静", 5), ("丽", 5), ("艳", 5),
    ("娟", 5), ("霞", 5), ("婷", 4), ("玲", 4), ("燕", 4), ("红", 4),
    ("萍", 3), ("琳", 3), ("倩", 3), ("颖", 3), ("慧", 3), ("晶", 3),
    ("梅", 3), ("丹", 3), ("雪", 3), ("洁", 3), ("莉", 2), ("琴", 2),
    ("云", 2), ("兰", 2), ("凤", 2), ("英", 2), ("欣", 2), ("悦", 2),
    ("佳", 2), ("怡", 2), ("月", 2), ("蕾", 2), ("璐", 2), ("瑶", 2),
    ("彤", 2), ("薇", 2), ("露", 2), ("琪", 1), ("媛", 1), ("莹", 1),
    ("岚", 1), ("君", 1),
]
# Common two-character given names, and first characters to compose others.
MALE_GIVEN_2 = (
    "建国 建华 建军 志强 志明 志伟 国强 国华 海涛 晓明 晓东 俊杰 浩然 子轩 "
    "宇轩 一鸣 天宇 文博 明辉 永刚 立新 振华 德明 家豪 嘉伟 思远 子豪 建平 "
    "卫东 红军 小龙 海波 春雷 新华").split()
FEMALE_GIVEN_2 = (
    "秀英 桂英 秀兰 玉兰 桂兰 秀珍 凤英 玉梅 海燕 丽娟 晓燕 春梅 小红 雪梅 "
    "丽华 美玲 欣怡 雨涵 子涵 梓涵 诗涵 思雨 佳怡 雅婷 晓丽 丽丽 婷婷 静怡 "
    "梦瑶 欣妍 玉珍 淑珍 淑华 桂芳 秀梅 晓红").split()
MALE_FIRST = "志建国海晓俊子宇浩文明永立振德家嘉思天一小新春卫"
FEMALE_FIRST = "秀桂玉丽晓春雪美欣雨子梓诗思佳雅静梦小海凤婷慧淑"

# Pinyin (no tones) of every character above: used for pinyin names and
# e-mail local parts. check_tables() verifies the coverage.
PINYIN = dict(pair.split("=") for pair in """
王=wang 李=li 张=zhang 刘=liu 陈=chen 杨=yang 黄=huang 赵=zhao 吴=wu 周=zhou
徐=xu 孙=sun 马=ma 朱=zhu 胡=hu 郭=guo 何=he 林=lin 高=gao 罗=luo 郑=zheng
梁=liang 谢=xie 宋=song 唐=tang 许=xu 韩=han 冯=feng 邓=deng 曹=cao 彭=peng
曾=zeng 肖=xiao 田=tian 董=dong 袁=yuan 潘=pan 于=yu 蒋=jiang 蔡=cai 余=yu
杜=du 叶=ye 程=cheng 苏=su 魏=wei 吕=lv 丁=ding 任=ren 沈=shen 姚=yao 卢=lu
姜=jiang 崔=cui 钟=zhong 谭=tan 陆=lu 汪=wang 范=fan 金=jin 石=shi 廖=liao
贾=jia 夏=xia 韦=wei 付=fu 方=fang 白=bai 邹=zou 孟=meng 熊=xiong 秦=qin
邱=qiu 江=jiang 尹=yin 薛=xue 闫=yan 段=duan 雷=lei 侯=hou 龙=long 史=shi
陶=tao 黎=li 贺=he 顾=gu 毛=mao 郝=hao 龚=gong 邵=shao 万=wan 钱=qian
严=yan 覃=qin 武=wu 戴=dai 莫=mo 孔=kong 向=xiang 汤=tang 欧=ou 阳=yang
司=si 诸=zhu 葛=ge 上=shang 官=guan 皇=huang 甫=fu 慕=mu 容=rong
伟=wei 强=qiang 磊=lei 军=jun 洋=yang 勇=yong 杰=jie 涛=tao 明=ming
超=chao 刚=gang 平=ping 辉=hui 鹏=peng 华=hua 飞=fei 鑫=xin 波=bo 斌=bin
宇=yu 浩=hao 凯=kai 健=jian 俊=jun 帆=fan 帅=shuai 旭=xu 宁=ning 峰=feng
亮=liang 成=cheng 东=dong 文=wen 博=bo 兵=bing 锋=feng 晨=chen 坤=kun
威=wei 毅=yi 彬=bin 海=hai 芳=fang 娜=na 敏=min 静=jing 丽=li 艳=yan
娟=juan 霞=xia 婷=ting 玲=ling 燕=yan 红=hong 萍=ping 琳=lin 倩=qian
颖=ying 慧=hui 晶=jing 梅=mei 丹=dan 雪=xue 洁=jie 莉=li 琴=qin 云=yun
兰=lan 凤=feng 英=ying 欣=xin 悦=yue 佳=jia 怡=yi 月=yue 蕾=lei 璐=lu
瑶=yao 彤=tong 薇=wei 露=lu 琪=qi 媛=yuan 莹=ying 岚=lan 君=jun 建=jian
国=guo 志=zhi 晓=xiao 子=zi 轩=xuan 一=yi 鸣=ming 天=tian 永=yong 立=li
新=xin 振=zhen 德=de 家=jia 豪=hao 嘉=jia 思=si 远=yuan 卫=wei 小=xiao
春=chun 秀=xiu 桂=gui 玉=yu 珍=zhen 涵=han 梓=zi 诗=shi 雅=ya 梦=meng
妍=yan 淑=shu 然=ran 雨=yu 美=mei 雷=lei
""".split())

# Simplified -> traditional, for the characters of the pools that differ.
TRADITIONAL = dict(zip(
    "张伟刘陈杨黄赵吴华丽军国东兰凤龙红刚涛马孙郑罗谢许韩冯邓叶苏吕卢钟谭陆贾"
    "邹龚钱严汤欧诸闫贺顾韦万蒋杰强鹏辉飞凯帅宁锋阳艳颖洁云瑶莹岚轩鸣晓卫诗"
    "梦远静悦",
    "張偉劉陳楊黃趙吳華麗軍國東蘭鳳龍紅剛濤馬孫鄭羅謝許韓馮鄧葉蘇呂盧鍾譚陸賈"
    "鄒龔錢嚴湯歐諸閆賀顧韋萬蔣傑強鵬輝飛凱帥寧鋒陽艷穎潔雲瑤瑩嵐軒鳴曉衛詩"
    "夢遠靜悅"))

# Homophones and look-alikes that clerks and forms swap in.
SIMILAR = {
    "伟": "玮炜韦", "静": "婧晶", "丽": "莉俐利", "芳": "方芬", "敏": "民珉",
    "娜": "那纳", "军": "君俊", "杰": "洁捷", "磊": "垒雷", "涛": "韬滔",
    "明": "铭鸣", "超": "朝", "霞": "侠", "平": "萍苹", "刚": "钢岗",
    "勇": "永涌", "艳": "燕雁", "娟": "鹃涓", "洋": "阳扬", "英": "瑛莺",
    "兰": "岚蓝", "红": "宏鸿虹", "华": "桦骅", "建": "剑健", "国": "帼",
    "玲": "琳龄铃", "婷": "亭庭", "慧": "惠蕙", "晶": "菁京", "鹏": "朋",
    "辉": "晖徽", "斌": "彬滨", "宇": "雨羽", "浩": "皓昊", "凯": "恺铠",
    "亮": "靓", "飞": "非菲", "峰": "锋丰枫", "波": "博", "琴": "芹",
    "云": "芸韵", "雪": "学", "梅": "玫媚", "燕": "艳雁", "萍": "平苹",
    "倩": "茜芊", "颖": "莹影", "欣": "馨昕", "佳": "嘉家", "文": "雯闻",
    "秀": "绣", "桂": "贵", "玉": "钰", "珍": "真贞", "鑫": "新欣",
    "龙": "隆", "东": "冬栋", "志": "智", "晓": "小筱", "瑶": "遥",
    "涵": "晗函", "轩": "萱", "思": "斯", "子": "紫",
    "王": "汪", "汪": "王", "张": "章", "徐": "许", "许": "徐", "陈": "程",
    "程": "陈", "林": "凌琳", "吴": "伍", "周": "邹", "邹": "周", "刘": "柳",
    "杨": "阳扬", "李": "黎", "黎": "李", "江": "姜蒋", "姜": "江", "蒋": "江",
    "付": "傅", "于": "余俞", "余": "于", "肖": "萧", "陆": "路卢", "卢": "陆",
}

# ---------------------------------------------------------------- places


@dataclass(frozen=True)
class City:
    name: str            # 深圳 (the 城市 column adds 市)
    province: str        # 广东省
    province_short: str  # 广东
    post: str            # postcode prefix, 3 digits
    area: str            # landline area code
    weight: int
    districts: tuple

    @property
    def municipality(self):
        return self.province == self.name + "市"


CITIES = [City(*c[:6], tuple(c[6].split())) for c in [
    ("北京", "北京市", "北京", "100", "010", 9, "朝阳区 海淀区 东城区 西城区 丰台区 通州区 昌平区"),
    ("上海", "上海市", "上海", "200", "021", 9, "浦东新区 徐汇区 静安区 黄浦区 长宁区 闵行区 杨浦区"),
    ("天津", "天津市", "天津", "300", "022", 4, "和平区 河西区 南开区 河东区 滨海新区"),
    ("重庆", "重庆市", "重庆", "400", "023", 5, "渝中区 江北区 南岸区 沙坪坝区 九龙坡区"),
    ("广州", "广东省", "广东", "510", "020", 8, "天河区 越秀区 海珠区 白云区 番禺区"),
    ("深圳", "广东省", "广东", "518", "0755", 8, "南山区 福田区 罗湖区 宝安区 龙岗区"),
    ("东莞", "广东省", "广东", "523", "0769", 3, "南城区 东城区 莞城区 虎门镇 长安镇"),
    ("佛山", "广东省", "广东", "528", "0757", 3, "禅城区 南海区 顺德区"),
    ("杭州", "浙江省", "浙江", "310", "0571", 5, "西湖区 上城区 拱墅区 滨江区 萧山区"),
    ("宁波", "浙江省", "浙江", "315", "0574", 3, "海曙区 江北区 鄞州区"),
    ("温州", "浙江省", "浙江", "325", "0577", 2, "鹿城区 龙湾区 瓯海区"),
    ("南京", "江苏省", "江苏", "210", "025", 5, "玄武区 秦淮区 鼓楼区 建邺区 江宁区"),
    ("苏州", "江苏省", "江苏", "215", "0512", 4, "姑苏区 吴中区 相城区 虎丘区"),
    ("无锡", "江苏省", "江苏", "214", "0510", 2, "梁溪区 滨湖区 新吴区"),
    ("成都", "四川省", "四川", "610", "028", 6, "锦江区 青羊区 武侯区 成华区 金牛区"),
    ("武汉", "湖北省", "湖北", "430", "027", 5, "江岸区 武昌区 洪山区 江汉区 汉阳区"),
    ("西安", "陕西省", "陕西", "710", "029", 4, "雁塔区 碑林区 新城区 莲湖区 未央区"),
    ("长沙", "湖南省", "湖南", "410", "0731", 4, "岳麓区 芙蓉区 天心区 开福区 雨花区"),
    ("郑州", "河南省", "河南", "450", "0371", 4, "金水区 中原区 二七区 管城回族区"),
    ("济南", "山东省", "山东", "250", "0531", 3, "历下区 市中区 槐荫区 天桥区"),
    ("青岛", "山东省", "山东", "266", "0532", 3, "市南区 市北区 崂山区 黄岛区 李沧区"),
    ("沈阳", "辽宁省", "辽宁", "110", "024", 3, "和平区 沈河区 皇姑区 铁西区"),
    ("大连", "辽宁省", "辽宁", "116", "0411", 2, "中山区 西岗区 沙河口区 甘井子区"),
    ("哈尔滨", "黑龙江省", "黑龙江", "150", "0451", 2, "南岗区 道里区 香坊区 道外区"),
    ("长春", "吉林省", "吉林", "130", "0431", 2, "朝阳区 南关区 宽城区 绿园区"),
    ("石家庄", "河北省", "河北", "050", "0311", 2, "长安区 桥西区 新华区 裕华区"),
    ("太原", "山西省", "山西", "030", "0351", 2, "小店区 迎泽区 杏花岭区"),
    ("合肥", "安徽省", "安徽", "230", "0551", 3, "蜀山区 包河区 庐阳区 瑶海区"),
    ("福州", "福建省", "福建", "350", "0591", 2, "鼓楼区 台江区 仓山区 晋安区"),
    ("厦门", "福建省", "福建", "361", "0592", 2, "思明区 湖里区 集美区 海沧区"),
    ("南昌", "江西省", "江西", "330", "0791", 2, "东湖区 西湖区 青山湖区 红谷滩区"),
    ("昆明", "云南省", "云南", "650", "0871", 2, "五华区 盘龙区 官渡区 西山区"),
    ("贵阳", "贵州省", "贵州", "550", "0851", 1, "南明区 云岩区 观山湖区"),
    ("南宁", "广西壮族自治区", "广西", "530", "0771", 2, "青秀区 兴宁区 西乡塘区 江南区"),
    ("海口", "海南省", "海南", "570", "0898", 1, "龙华区 美兰区 秀英区"),
    ("兰州", "甘肃省", "甘肃", "730", "0931", 1, "城关区 七里河区 安宁区"),
    ("乌鲁木齐", "新疆维吾尔自治区", "新疆", "830", "0991", 1, "天山区 沙依巴克区 新市区"),
    ("呼和浩特", "内蒙古自治区", "内蒙古", "010", "0471", 1, "新城区 回民区 赛罕区"),
]]

STREETS = (
    "建国路 人民路 解放路 中山路 长江路 黄河路 和平路 胜利路 新华路 朝阳路 "
    "文化路 建设路 光明路 幸福路 青年路 东风路 南京路 北京路 延安路 淮海路 "
    "科技园路 高新大道 世纪大道 滨江大道 学院路 花园路 迎宾路 工业大道 湖滨路 "
    "北环路 中山北路 人民南路 解放东路 建设西路 文化街 商业街 府前街 团结路").split()
COMMUNITIES = (
    "阳光花园 锦绣家园 翠苑小区 幸福里 金色家园 碧水湾 万家城 绿地新都 华府名苑 "
    "紫荆花园 和谐家园 春天花园 御景湾 书香门第 水岸花城 丽景苑 怡景苑 金地名京 "
    "东方明珠苑 银河湾").split()
TOWERS = "国贸大厦 科技大厦 金融中心 世纪大厦 时代广场 创新大厦 财富中心 环球中心".split()

# ---------------------------------------------------------------- companies

BRANDS = (
    "华信 东方 腾达 恒通 金桥 宏远 天华 博雅 中诚 盛世 鼎盛 长城 瑞丰 伟业 嘉禾 "
    "联创 信达 永安 汇通 明远 星辰 新元 智联 同创 立德 海纳 润泽 凯旋 晨光 宏图 "
    "锦程 正大 启明 光华 恒瑞 安泰 天宇 中天 远航 兴业 德信 华美 东升 鸿运").split()
INDUSTRIES = [
    ("科技", 8), ("贸易", 6), ("电子", 4), ("实业", 4), ("建设", 3), ("物流", 3),
    ("信息技术", 4), ("网络科技", 3), ("生物科技", 2), ("医药", 2), ("文化传媒", 2),
    ("教育咨询", 2), ("餐饮管理", 2), ("房地产开发", 2), ("机械设备", 2), ("服装", 2),
    ("食品", 2), ("环保科技", 2), ("投资", 2), ("装饰工程", 2),
]
LEGAL_FORMS = [("有限公司", 60), ("有限责任公司", 20), ("股份有限公司", 15), ("集团有限公司", 5)]
# For stripping: longest first, so 股份有限公司 is not read as 有限公司.
LEGAL_SUFFIXES = sorted((f for f, _ in LEGAL_FORMS), key=len, reverse=True)

# ---------------------------------------------------------------- contact

MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 "
    "158 159 166 170 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 "
    "191 198 199").split()
PROVIDERS = [
    ("qq.com", 30), ("163.com", 25), ("126.com", 10), ("sina.com", 6), ("gmail.com", 5),
    ("hotmail.com", 4), ("foxmail.com", 4), ("139.com", 4), ("outlook.com", 3),
    ("sohu.com", 3), ("yeah.net", 2), ("aliyun.com", 2),
]
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
MOBILE_RE = re.compile(r"^(\+86 ?|0086 ?|86)?(1\d{2}[ -]?\d{4}[ -]?\d{4})$")
HOUSE_NO_RE = re.compile(r"(\d+)(号|#)(?!楼)")

# Share of people planted as each hard negative (of an earlier person).
NAMESAKE_SHARE = 0.04
FAMILY_SHARE = 0.04
COLLEAGUE_SHARE = 0.03
DUPLICATED_SHARE = 0.30           # people with copies
COPY_COUNTS = [(1, 85), (2, 12), (3, 3)]
CORRUPTION_COUNTS = [(1, 40), (2, 30), (3, 20), (4, 10)]


def check_tables():
    """Every pool character has a pinyin; the traditional forms differ."""
    chars = set("".join(s for s, _ in SURNAMES))
    chars |= {c for c, _ in MALE_GIVEN + FEMALE_GIVEN}
    chars |= set("".join(MALE_GIVEN_2 + FEMALE_GIVEN_2) + MALE_FIRST + FEMALE_FIRST)
    missing = sorted(chars - set(PINYIN))
    assert not missing, f"no pinyin for {''.join(missing)}"
    assert len(TRADITIONAL) >= 25 and all(s != t for s, t in TRADITIONAL.items())
    given = {c for c, _ in MALE_GIVEN + FEMALE_GIVEN}
    given |= set("".join(MALE_GIVEN_2 + FEMALE_GIVEN_2))
    assert len(given) >= 80, len(given)


# ---------------------------------------------------------------- people


@dataclass
class Person:
    surname: str
    given: str
    gender: str          # 男 / 女
    birth: tuple         # (year, month, day), always known ...
    show_birth: bool     # ... but only shown for 70%
    show_gender: bool
    phone: str
    email: str
    company: str
    city: City
    district: str
    detail: str          # 详细地址
    postcode: str
    show_postcode: bool
    landline: str        # the household's
    role: str = "original"   # or namesake / family / colleague

    @property
    def name(self):
        return self.surname + self.given


def weighted(rng, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def change_digit(rng, digits, lo=0):
    """`digits` with one digit at position >= lo replaced by another."""
    i = rng.randrange(lo, len(digits))
    choices = "123456789" if i == 0 else "0123456789"
    new = rng.choice(choices.replace(digits[i], ""))
    return digits[:i] + new + digits[i + 1:]


class World:
    """The random source and everything shared between people."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.phones = set()
        self.emails = set()                  # every address handed out, lower case
        self.company_names = set()
        self.companies = defaultdict(list)   # city name -> companies there
        self.postcodes = {}                  # (city, district) -> postcode
        self.with_company = []               # people who have a company

    # --- names

    def surname(self):
        return weighted(self.rng, SURNAMES)

    def given(self, gender):
        rng = self.rng
        male = gender == "男"
        single = MALE_GIVEN if male else FEMALE_GIVEN
        r = rng.random()
        if r < 0.38:
            return weighted(rng, single)
        if r < 0.62:
            return rng.choice(MALE_GIVEN_2 if male else FEMALE_GIVEN_2)
        first = rng.choice(MALE_FIRST if male else FEMALE_FIRST)
        second = weighted(rng, single)
        return first + second if first != second else first + weighted(rng, single)

    # --- contact

    def mobile(self):
        while True:
            p = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def landline(self, city):
        while True:
            p = f"{city.area}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def qq_email(self):
        length = weighted(self.rng, [(5, 1), (6, 3), (7, 6), (8, 15), (9, 40), (10, 35)])
        first = self.rng.randint(1, 3 if length == 10 else 9)
        return f"{first}{self.rng.randrange(10 ** (length - 1)):0{length - 1}d}@qq.com"

    def pinyin_email(self, surname, given, birth):
        rng = self.rng
        s = "".join(PINYIN[c] for c in surname)
        g = "".join(PINYIN[c] for c in given)
        si = "".join(PINYIN[c][0] for c in surname)
        gi = "".join(PINYIN[c][0] for c in given)
        year = birth[0]
        local = rng.choice([
            f"{s}{g}", f"{s}{g}{rng.randint(1, 99)}", f"{s}{g}{year % 100:02d}",
            f"{g}.{s}", f"{s}.{g}", f"{s}_{g}", f"{si}{gi}{year}",
            f"{g}{s}{rng.randint(100, 999)}", f"{s}{gi}{rng.randint(10, 99)}",
        ])
        return f"{local}@{weighted(rng, PROVIDERS)}"

    def email(self, surname, given, birth, qq_share=0.35):
        """A new address, unique across the list."""
        if self.rng.random() < qq_share:
            address = self.qq_email()
        else:
            address = self.pinyin_email(surname, given, birth)
        while address in self.emails:
            local, domain = address.split("@")
            address = f"{local}{self.rng.randint(1, 9)}@{domain}"
        self.emails.add(address)
        return address

    # --- places

    def city(self):
        return self.rng.choices(CITIES, [c.weight for c in CITIES])[0]

    def postcode(self, city, district):
        """One code per district: the city's prefix and three more digits."""
        key = (city.name, district)
        if key not in self.postcodes:
            middle, last = self.rng.randint(0, 99), self.rng.choice("001")
            self.postcodes[key] = f"{city.post}{middle:02d}{last}"
        return self.postcodes[key]

    def room(self):
        floor = self.rng.choices(range(1, 34), [4] * 6 + [2] * 12 + [1] * 15)[0]
        return f"{floor}{self.rng.randint(1, 6):02d}"

    def detail(self, district):
        rng = self.rng
        street = f"{district}{rng.choice(STREETS)}{rng.randint(1, 399)}号"
        r = rng.random()
        if r < 0.40:
            return f"{street}{rng.randint(1, 30)}栋{self.room()}室"
        if r < 0.70:
            return (f"{street}{rng.choice(COMMUNITIES)}{rng.randint(1, 20)}号楼"
                    f"{rng.randint(1, 6)}单元{self.room()}")
        if r < 0.85:
            return f"{street}{rng.choice(TOWERS)}{self.room()}室"
        return street

    # --- companies

    def new_company(self, city):
        rng = self.rng
        while True:
            if city.municipality:
                prefix = city.name if rng.random() < 0.85 else ""
            else:
                prefix = rng.choices([city.name + "市", city.name, ""], [55, 25, 20])[0]
            name = (prefix + rng.choice(BRANDS) + weighted(rng, INDUSTRIES)
                    + weighted(rng, LEGAL_FORMS))
            if name not in self.company_names:
                self.company_names.add(name)
                self.companies[city.name].append(name)
                return name

    def company(self, city):
        """Mostly a new company; now and then one already in the city."""
        known = self.companies[city.name]
        if known and self.rng.random() < 0.12:
            return self.rng.choice(known)
        return self.new_company(city)

    # --- people

    def birth(self):
        return (self.rng.randint(1950, 2005), self.rng.randint(1, 12), self.rng.randint(1, 28))

    def fresh(self, city=None, name=None, gender=None, birth=None, company=None):
        """A new person; the arguments fix what a hard negative shares."""
        rng = self.rng
        gender = gender or rng.choice("男女")
        surname, given = name or (self.surname(), self.given(gender))
        birth = birth or self.birth()
        city = city or self.city()
        district = rng.choice(city.districts)
        landline = self.landline(city)
        r = rng.random()
        phone = self.mobile() if r < 0.88 else landline if r < 0.92 else ""
        if company is None:
            company = self.company(city) if rng.random() < 0.50 else ""
        return Person(
            surname=surname, given=given, gender=gender, birth=birth,
            show_birth=rng.random() < 0.70, show_gender=rng.random() < 0.97,
            phone=phone,
            email=self.email(surname, given, birth) if rng.random() < 0.75 else "",
            company=company, city=city, district=district,
            detail=self.detail(district) if rng.random() < 0.92 else "",
            postcode=self.postcode(city, district), show_postcode=rng.random() < 0.75,
            landline=landline,
        )

    def person(self, people):
        """The next person: fresh, or a hard negative of an earlier one."""
        r = self.rng.random()
        if people and r < NAMESAKE_SHARE:
            p = self.namesake(self.rng.choice(people))
        elif people and r < NAMESAKE_SHARE + FAMILY_SHARE:
            p = self.family_member(self.rng.choice(people))
        elif self.with_company and r < NAMESAKE_SHARE + FAMILY_SHARE + COLLEAGUE_SHARE:
            p = self.colleague(self.rng.choice(self.with_company))
        else:
            p = self.fresh()
        if p.company:
            self.with_company.append(p)
        return p

    def namesake(self, base):
        """Same full name (and mostly gender), everything else their own."""
        gender = base.gender if self.rng.random() < 0.9 else None
        city = base.city if self.rng.random() < 0.33 else None
        p = self.fresh(city, name=(base.surname, base.given), gender=gender)
        p.role = "namesake"
        return p

    def family_member(self, base):
        """Same surname and household, another given name and birth year."""
        rng = self.rng
        gender = rng.choice("男女")
        given = base.given
        if len(base.given) == 2 and rng.random() < 0.3:
            # Siblings often share the first character: 建国 / 建华.
            given = base.given[0] + self.given(gender)[-1]
        while given == base.given:
            given = self.given(gender)
        birth = self.birth()
        while birth[0] == base.birth[0]:
            birth = self.birth()
        p = self.fresh(base.city, name=(base.surname, given), gender=gender, birth=birth)
        if p.phone and not MOBILE_RE.match(p.phone):     # its own home phone: not theirs
            p.phone = self.mobile()
        if not base.detail:
            base.detail = self.detail(base.district)
        p.district, p.detail = base.district, base.detail
        p.postcode, p.landline = base.postcode, base.landline
        r = rng.random()
        if r < 0.35:
            p.phone = base.phone = base.landline     # both give the home phone
        elif r < 0.50:
            p.phone = base.landline
        p.role = "family"
        return p

    def colleague(self, base):
        """Same company and city, another name."""
        gender = self.rng.choice("男女")
        name = (self.surname(), self.given(gender))
        while name[0] + name[1] == base.name:
            name = (self.surname(), self.given(gender))
        p = self.fresh(base.city, name=name, gender=gender, company=base.company)
        p.role = "colleague"
        return p


# ---------------------------------------------------------------- rows


def birth_text(birth, fmt):
    y, m, d = birth
    return {
        "iso": f"{y}-{m:02d}-{d:02d}",
        "slash": f"{y}/{m}/{d}",
        "slash0": f"{y}/{m:02d}/{d:02d}",
        "dot": f"{y}.{m:02d}.{d:02d}",
        "compact": f"{y}{m:02d}{d:02d}",
        "chinese": f"{y}年{m}月{d}日",
        "us": f"{m}/{d}/{y}",
    }[fmt]


def original_record(p):
    """The person's row as a dict, plus the state corruptions work on."""
    return {
        "姓名": p.name, "手机": p.phone, "邮箱": p.email, "公司": p.company,
        "省份": p.city.province, "城市": p.city.name + "市", "详细地址": p.detail,
        "邮编": p.postcode if p.show_postcode else "",
        "性别": p.gender if p.show_gender else "",
        "_name": "full",                         # full / title / pinyin
        "_birth": p.birth if p.show_birth else None,
        "_birth_format": "iso",
    }


def render(rec):
    birth = birth_text(rec["_birth"], rec["_birth_format"]) if rec["_birth"] else ""
    return [rec["姓名"], rec["手机"], rec["邮箱"], rec["公司"], rec["省份"], rec["城市"],
            rec["详细地址"], rec["邮编"], birth, rec["性别"]]


# ---------------------------------------------------------------- corruptions
#
# Each corruption is fn(world, rec, person), registered with a weight and a
# test of whether it applies to the record as it is now.

CORRUPTIONS = []


def corruption(weight, applies):
    def register(fn):
        CORRUPTIONS.append((fn, weight, applies))
        return fn
    return register


def plain_name(rec):
    return rec["_name"] == "full" and not re.search(r"[ ·　]", rec["姓名"])


# --- name

@corruption(3, lambda r, p: r["_name"] != "pinyin" and any(c in TRADITIONAL for c in r["姓名"]))
def name_traditional(w, rec, p):
    name = rec["姓名"]
    if w.rng.random() < 0.3:
        rec["姓名"] = "".join(TRADITIONAL.get(c, c) for c in name)
    else:
        i = w.rng.choice([i for i, c in enumerate(name) if c in TRADITIONAL])
        rec["姓名"] = name[:i] + TRADITIONAL[name[i]] + name[i + 1:]


@corruption(3, lambda r, p: r["_name"] == "full" and any(c in SIMILAR for c in r["姓名"]))
def name_similar(w, rec, p):
    name = rec["姓名"]
    i = w.rng.choice([i for i, c in enumerate(name) if c in SIMILAR])
    rec["姓名"] = name[:i] + w.rng.choice(SIMILAR[name[i]]) + name[i + 1:]


@corruption(2, lambda r, p: plain_name(r) and len(r["姓名"]) >= 2)
def name_separator(w, rec, p):
    name = rec["姓名"]
    i = len(p.surname) if len(name) > len(p.surname) else 1
    sep = weighted(w.rng, [(" ", 55), ("·", 30), ("　", 15)])
    rec["姓名"] = name[:i] + sep + name[i:]


@corruption(1.5, lambda r, p: r["_name"] != "pinyin")
def name_pinyin(w, rec, p):
    s = "".join(PINYIN[c] for c in p.surname).capitalize()
    g = "".join(PINYIN[c] for c in p.given).capitalize()
    rec["姓名"] = weighted(w.rng, [
        (f"{s} {g}", 35), (f"{g} {s}", 25), (f"{s} {g}".upper(), 25),
        (f"{s} {g}".lower(), 10), (f"{s}{g.lower()}", 5)])
    rec["_name"] = "pinyin"


@corruption(1, lambda r, p: plain_name(r) and len(r["姓名"]) >= 3)
def name_truncated(w, rec, p):
    """张晓明 -> 张晓 (two-character names are left alone: 张 is the title case)."""
    rec["姓名"] = rec["姓名"][:-1]


@corruption(1.5, lambda r, p: r["_name"] == "full")
def name_title(w, rec, p):
    if w.rng.random() < 0.08:
        title = "总"
    elif p.gender == "男":
        title = "先生"
    else:
        title = weighted(w.rng, [("女士", 70), ("小姐", 30)])
    rec["姓名"] = p.surname + title
    rec["_name"] = "title"


# --- phone

@corruption(2, lambda r, p: (m := MOBILE_RE.match(r["手机"])) is not None and not m.group(1))
def phone_prefix(w, rec, p):
    prefix = weighted(w.rng, [("+86", 35), ("+86 ", 30), ("86", 25), ("0086", 10)])
    rec["手机"] = prefix + rec["手机"]


@corruption(2, lambda r, p: (m := MOBILE_RE.match(r["手机"])) is not None and m.group(2).isdigit())
def phone_separators(w, rec, p):
    m = MOBILE_RE.match(rec["手机"])
    d = m.group(2)
    sep = w.rng.choice(" -")
    rec["手机"] = (m.group(1) or "") + f"{d[:3]}{sep}{d[3:7]}{sep}{d[7:]}"


@corruption(1, lambda r, p: re.search(r"[0-9]", r["手机"]) is not None)
def phone_full_width(w, rec, p):
    rec["手机"] = rec["手机"].translate(FULL_WIDTH)


@corruption(1.5, lambda r, p: len(re.findall(r"[0-9]", r["手机"])) >= 10)
def phone_digit(w, rec, p):
    phone = rec["手机"]
    spots = [i for i, c in enumerate(phone) if c.isascii() and c.isdigit()][-8:]
    i = w.rng.choice(spots)
    rec["手机"] = phone[:i] + w.rng.choice("0123456789".replace(phone[i], "")) + phone[i + 1:]


@corruption(1.5, lambda r, p: r["手机"] != "")
def phone_missing(w, rec, p):
    rec["手机"] = ""


@corruption(1, lambda r, p: MOBILE_RE.match(r["手机"]) is not None)
def phone_landline(w, rec, p):
    rec["手机"] = p.landline


# --- email

@corruption(1.5, lambda r, p: re.search(r"[a-z]", r["邮箱"]) is not None)
def email_upper(w, rec, p):
    local, domain = rec["邮箱"].split("@")
    r = w.rng.random()
    if r < 0.5:
        rec["邮箱"] = rec["邮箱"].upper()
    elif r < 0.75:
        rec["邮箱"] = local.upper() + "@" + domain
    else:
        rec["邮箱"] = local[:1].upper() + local[1:] + "@" + domain


@corruption(1.5, lambda r, p: "@" in r["邮箱"])
def email_provider(w, rec, p):
    local, domain = rec["邮箱"].split("@")
    others = [(d, wt) for d, wt in PROVIDERS if d != domain.lower()]
    if local.isdigit():
        others = [("foxmail.com", 5), ("vip.qq.com", 2), ("163.com", 1)]
    free = [(d, wt) for d, wt in others if f"{local}@{d}".lower() not in w.emails]
    if free:
        address = f"{local}@{weighted(w.rng, free)}"
        w.emails.add(address.lower())       # no one else gets it
    else:
        address = w.email(p.surname, p.given, p.birth)
    rec["邮箱"] = address


@corruption(1.5, lambda r, p: r["邮箱"] != "")
def email_missing(w, rec, p):
    rec["邮箱"] = ""


@corruption(1, lambda r, p: True)
def email_new(w, rec, p):
    rec["邮箱"] = w.email(p.surname, p.given, p.birth, qq_share=0.5)


# --- company

def legal_form(company):
    return next((f for f in LEGAL_SUFFIXES if company.endswith(f)), "")


@corruption(2, lambda r, p: r["公司"] != "")
def company_form(w, rec, p):
    company = rec["公司"]
    form = legal_form(company)
    body = company[:len(company) - len(form)]
    choices = [f for f in ("有限公司", "股份有限公司", "有限责任公司", "") if f != form]
    rec["公司"] = body + w.rng.choice(choices)


@corruption(1.5, lambda r, p: r["公司"].startswith(p.city.name))
def company_city(w, rec, p):
    rec["公司"] = re.sub(f"^{p.city.name}市?", "", rec["公司"])


@corruption(1.5, lambda r, p: r["公司"] != "")
def company_missing(w, rec, p):
    rec["公司"] = ""


# --- address

@corruption(1.5, lambda r, p: r["详细地址"] != "" and not r["详细地址"].startswith(
    (p.city.name, p.city.province_short)))
def address_region_repeated(w, rec, p):
    c = p.city
    if c.municipality:
        prefix = w.rng.choice([c.province, c.name])
    else:
        prefix = w.rng.choice([c.province + c.name + "市", c.province_short + c.name + "市",
                               c.name + "市", c.name])
    rec["详细地址"] = prefix + rec["详细地址"]


@corruption(1.5, lambda r, p: re.search(r"\d+号(?!楼)", r["详细地址"]) is not None)
def address_hash(w, rec, p):
    rec["详细地址"] = re.sub(r"(\d+)号(?!楼)", r"\1#", rec["详细地址"], count=1)


@corruption(1.5, lambda r, p: (m := HOUSE_NO_RE.search(r["详细地址"])) is not None
            and m.end() < len(r["详细地址"]))
def address_room_dropped(w, rec, p):
    detail = rec["详细地址"]
    end = HOUSE_NO_RE.search(detail).end()
    head, tail = detail[:end], detail[end:]
    room = re.search(r"\d+室?$", tail)
    if room and room.start() > 0 and w.rng.random() < 0.5:
        tail = tail[:room.start()]          # 3栋1202室 -> 3栋
    else:
        tail = ""                           # 88号3栋1202室 -> 88号
    rec["详细地址"] = head + tail


@corruption(1, lambda r, p: HOUSE_NO_RE.search(r["详细地址"]) is not None)
def address_house_number(w, rec, p):
    detail = rec["详细地址"]
    m = HOUSE_NO_RE.search(detail)
    rec["详细地址"] = detail[:m.start(1)] + change_digit(w.rng, m.group(1)) + detail[m.end(1):]


@corruption(1.5, lambda r, p: p.district in r["详细地址"])
def address_district_dropped(w, rec, p):
    rec["详细地址"] = rec["详细地址"].replace(p.district, "", 1)


@corruption(1, lambda r, p: r["详细地址"] != "")
def address_missing(w, rec, p):
    rec["详细地址"] = ""


@corruption(2, lambda r, p: r["城市"] != "")
def city_suffix(w, rec, p):
    city = rec["城市"]
    rec["城市"] = city[:-1] if city.endswith("市") else city + "市"


@corruption(1, lambda r, p: r["省份"] == p.city.province)
def province_short(w, rec, p):
    rec["省份"] = p.city.province_short


# --- postcode, birth date, gender

@corruption(1.5, lambda r, p: r["邮编"] != "")
def postcode_missing(w, rec, p):
    rec["邮编"] = ""


@corruption(1, lambda r, p: r["邮编"] != "")
def postcode_digit(w, rec, p):
    rec["邮编"] = change_digit(w.rng, rec["邮编"], lo=2)


@corruption(3, lambda r, p: r["_birth"] is not None)
def birth_format(w, rec, p):
    formats = ["slash", "slash0", "dot", "compact", "chinese", "us"]
    rec["_birth_format"] = w.rng.choice([f for f in formats if f != rec["_birth_format"]])


@corruption(1, lambda r, p: r["_birth"] is not None and r["_birth"][2] <= 12
            and r["_birth"][1] != r["_birth"][2])
def birth_day_month_swapped(w, rec, p):
    y, m, d = rec["_birth"]
    rec["_birth"] = (y, d, m)


@corruption(1.5, lambda r, p: r["_birth"] is not None)
def birth_missing(w, rec, p):
    rec["_birth"] = None


@corruption(1.5, lambda r, p: r["性别"] != "")
def gender_missing(w, rec, p):
    rec["性别"] = ""


def copy_record(w, p):
    """A dirty copy of the person's row: 1 to 4 different corruptions."""
    rec = original_record(p)
    used = set()
    for _ in range(weighted(w.rng, CORRUPTION_COUNTS)):
        candidates = [(fn, wt) for fn, wt, applies in CORRUPTIONS
                      if fn not in used and applies(rec, p)]
        if not candidates:
            break
        fn = weighted(w.rng, candidates)
        fn(w, rec, p)
        used.add(fn)
    if not (rec["姓名"] or rec["手机"] or rec["邮箱"]):
        rec["姓名"] = p.name
    return rec


# ---------------------------------------------------------------- the list


@dataclass
class Dataset:
    header: list
    rows: list
    truth: set
    people: int
    duplicated: int
    roles: dict


def people_for(n):
    mean_copies = sum(c * w for c, w in COPY_COUNTS) / sum(w for _, w in COPY_COUNTS)
    return max(1, min(n, round(n / (1 + DUPLICATED_SHARE * mean_copies))))


def plan_copies(rng, n_people, budget):
    """How many copies each person gets, using up exactly `budget` rows."""
    order = list(range(n_people))
    rng.shuffle(order)
    copies = {}
    for idx in order:
        if budget <= 0:
            break
        k = min(weighted(rng, COPY_COUNTS), budget)
        copies[idx] = k
        budget -= k
    while budget > 0:                   # only when n is tiny
        idx = rng.randrange(n_people)
        copies[idx] = copies.get(idx, 0) + 1
        budget -= 1
    return copies


def build(n, seed):
    check_tables()
    w = World(seed)
    people = []
    for _ in range(people_for(n)):
        people.append(w.person(people))
    copies = plan_copies(w.rng, len(people), n - len(people))
    records = []
    for idx, p in enumerate(people):
        records.append((idx, render(original_record(p))))
        for _ in range(copies.get(idx, 0)):
            records.append((idx, render(copy_record(w, p))))
    w.rng.shuffle(records)

    width = max(6, len(str(len(records))))
    rows, groups = [], defaultdict(list)
    for number, (idx, row) in enumerate(records, 1):
        rid = f"K{number:0{width}d}"
        rows.append([rid] + row)
        groups[idx].append(rid)
    truth = {pair for ids in groups.values() for pair in combinations(sorted(ids), 2)}
    roles = defaultdict(int)
    for p in people:
        roles[p.role] += 1
    return Dataset(list(HEADER), rows, truth, len(people), len(copies), dict(roles))


def generate(n, seed):
    """(header, rows, truth): n rows of 11 strings, truth as (id_a, id_b), id_a < id_b."""
    d = build(n, seed)
    return d.header, d.rows, d.truth


def write(out, d, bom=False):
    os.makedirs(out, exist_ok=True)
    encoding = "utf-8-sig" if bom else "utf-8"
    with open(os.path.join(out, "customers.csv"), "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(d.header)
        writer.writerows(d.rows)
    with open(os.path.join(out, "truth.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id_a", "id_b"])
        writer.writerows(sorted(d.truth))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000, help="rows to write")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True, help="directory for customers.csv and truth.csv")
    ap.add_argument("--bom", action="store_true", help="write customers.csv with a UTF-8 BOM")
    args = ap.parse_args()
    if args.n < 1:
        ap.error("--n must be at least 1")
    d = build(args.n, args.seed)
    write(args.out, d, args.bom)
    print(f"zh_dirty: {len(d.rows)} rows, {d.people} people, {len(d.truth)} true pairs "
          f"({d.duplicated} people with copies; hard negatives: "
          f"{d.roles.get('namesake', 0)} namesakes, {d.roles.get('family', 0)} family members, "
          f"{d.roles.get('colleague', 0)} colleagues)", file=sys.stderr)


if __name__ == "__main__":
    main()
