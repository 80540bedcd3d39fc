"""Words printed on synthetic receipts: shop names, items, labels, addresses.

All merchants are made up from syllables; no real brand is named. Items carry a
Traditional, a Simplified and an English name plus a price range in Hong Kong dollars
(other currencies are scaled from it).
"""

from __future__ import annotations

# (Traditional, Simplified, Cantonese romanisation, Pinyin) for made-up shop names.
NAME_SYLLABLES: tuple[tuple[str, str, str, str], ...] = (
    ("金", "金", "KAM", "JIN"),
    ("華", "华", "WAH", "HUA"),
    ("興", "兴", "HING", "XING"),
    ("記", "记", "KEE", "JI"),
    ("利", "利", "LEE", "LI"),
    ("祥", "祥", "CHEUNG", "XIANG"),
    ("發", "发", "FAT", "FA"),
    ("富", "富", "FU", "FU"),
    ("寶", "宝", "PO", "BAO"),
    ("龍", "龙", "LUNG", "LONG"),
    ("鳳", "凤", "FUNG", "FENG"),
    ("新", "新", "SUN", "XIN"),
    ("美", "美", "MEI", "MEI"),
    ("安", "安", "ON", "AN"),
    ("泰", "泰", "TAI", "TAI"),
    ("昌", "昌", "CHEONG", "CHANG"),
    ("盛", "盛", "SHING", "SHENG"),
    ("滿", "满", "MOON", "MAN"),
    ("福", "福", "FOOK", "FU"),
    ("喜", "喜", "HEI", "XI"),
    ("榮", "荣", "WING", "RONG"),
    ("麗", "丽", "LAI", "LI"),
    ("海", "海", "HOI", "HAI"),
    ("德", "德", "TAK", "DE"),
    ("明", "明", "MING", "MING"),
    ("東", "东", "TUNG", "DONG"),
    ("翠", "翠", "CHUI", "CUI"),
    ("悅", "悦", "YUET", "YUE"),
    ("康", "康", "HONG", "KANG"),
    ("樂", "乐", "LOK", "LE"),
)

# Shop kinds: (Chinese suffix, English words, item kind).
HK_SHOPS: tuple[tuple[str, str, str], ...] = (
    ("茶餐廳", "CAFE", "restaurant"),
    ("冰室", "CAFE", "restaurant"),
    ("燒臘飯店", "BBQ RESTAURANT", "restaurant"),
    ("便利店", "CONVENIENCE STORE", "convenience"),
    ("藥房", "PHARMACY", "pharmacy"),
    ("大藥房", "DISPENSARY", "pharmacy"),
    ("餅店", "BAKERY", "bakery"),
    ("西餅屋", "CAKE SHOP", "bakery"),
    ("超級市場", "SUPERMARKET", "supermarket"),
    ("茶飲", "TEA HOUSE", "milktea"),
)
CN_SHOPS: tuple[tuple[str, str, str], ...] = (
    ("超市", "SUPERMARKET", "supermarket"),
    ("生活超市", "MART", "supermarket"),
    ("便利店", "CONVENIENCE", "convenience"),
    ("奶茶", "MILK TEA", "milktea"),
    ("茶饮", "TEA", "milktea"),
    ("大药房", "PHARMACY", "pharmacy"),
    ("面馆", "NOODLES", "restaurant"),
    ("餐厅", "RESTAURANT", "restaurant"),
    ("烘焙", "BAKERY", "bakery"),
)
EN_FIRST = (
    "Harbour", "Little", "Blue Door", "Golden", "Corner", "Sunny", "Maple", "Urban",
    "Daily", "Old Town", "Brick Lane", "Copper", "Tin Hau", "Peak", "Orchid", "Kettle",
)  # fmt: skip
EN_SHOPS: tuple[tuple[str, str], ...] = (
    ("Coffee", "cafe"),
    ("Café", "cafe"),
    ("Espresso Bar", "cafe"),
    ("Roasters", "cafe"),
    ("Bakery", "bakery"),
    ("Deli", "cafe"),
    ("Mart", "convenience"),
    ("Pharmacy", "pharmacy"),
    ("Grocer", "supermarket"),
)

# (Traditional, Simplified, English, low HKD, high HKD)
ITEMS: dict[str, tuple[tuple[str, str, str, int, int], ...]] = {
    "restaurant": (
        ("凍檸茶", "冻柠茶", "Iced Lemon Tea", 16, 24),
        ("奶茶", "奶茶", "Milk Tea", 15, 22),
        ("鴛鴦", "鸳鸯", "Yuenyeung", 16, 22),
        ("菠蘿油", "菠萝油", "Pineapple Bun Butter", 12, 18),
        ("餐蛋麵", "餐蛋面", "Spam Egg Noodles", 32, 45),
        ("沙嗲牛肉麵", "沙嗲牛肉面", "Satay Beef Noodles", 35, 48),
        ("叉燒飯", "叉烧饭", "BBQ Pork Rice", 42, 58),
        ("乾炒牛河", "干炒牛河", "Beef Chow Fun", 55, 72),
        ("西多士", "西多士", "French Toast", 22, 32),
        ("熱檸水", "热柠水", "Hot Lemon Water", 12, 18),
        ("揚州炒飯", "扬州炒饭", "Yeung Chow Fried Rice", 58, 78),
        ("雲吞麵", "云吞面", "Wonton Noodles", 36, 48),
        ("火腿蛋治", "火腿蛋三明治", "Ham Egg Sandwich", 24, 34),
        ("咖喱牛腩飯", "咖喱牛腩饭", "Curry Brisket Rice", 52, 68),
        ("燒鵝瀨粉", "烧鹅濑粉", "Roast Goose Noodles", 48, 66),
        ("白切雞", "白切鸡", "Poached Chicken", 68, 128),
    ),
    "convenience": (
        ("礦泉水", "矿泉水", "Mineral Water", 7, 12),
        ("可樂", "可乐", "Cola 330ml", 8, 12),
        ("薯片", "薯片", "Potato Chips", 10, 18),
        ("杯麵", "杯面", "Cup Noodles", 9, 15),
        ("朱古力", "巧克力", "Chocolate Bar", 10, 22),
        ("香口膠", "口香糖", "Chewing Gum", 8, 14),
        ("檸檬茶", "柠檬茶", "Lemon Tea", 7, 10),
        ("三文治", "三明治", "Sandwich", 16, 28),
        ("鮮奶", "鲜牛奶", "Fresh Milk", 12, 22),
        ("紙巾", "纸巾", "Tissues", 10, 25),
        ("電池", "电池", "AA Batteries", 25, 45),
        ("雪糕", "雪糕", "Ice Cream", 12, 28),
        ("飯糰", "饭团", "Rice Ball", 12, 18),
    ),
    "pharmacy": (
        ("感冒藥", "感冒药", "Cold Tablets", 38, 98),
        ("維他命C", "维生素C", "Vitamin C", 58, 180),
        ("口罩", "口罩", "Face Masks 50pcs", 25, 68),
        ("止痛藥", "止痛药", "Pain Relief", 30, 75),
        ("搓手液", "洗手液", "Hand Sanitiser", 18, 45),
        ("護手霜", "护手霜", "Hand Cream", 28, 88),
        ("魚油丸", "鱼油胶囊", "Fish Oil", 128, 388),
        ("奶粉", "奶粉", "Milk Powder 900g", 198, 468),
        ("膠布", "创可贴", "Plasters", 12, 30),
        ("眼藥水", "眼药水", "Eye Drops", 35, 95),
        ("面膜", "面膜", "Face Mask Sheet", 48, 168),
    ),
    "bakery": (
        ("蛋撻", "蛋挞", "Egg Tart", 7, 12),
        ("菠蘿包", "菠萝包", "Pineapple Bun", 7, 10),
        ("雞尾包", "鸡尾包", "Cocktail Bun", 7, 10),
        ("牛角包", "牛角包", "Croissant", 10, 18),
        ("芝士蛋糕", "芝士蛋糕", "Cheesecake", 28, 45),
        ("生日蛋糕", "生日蛋糕", "Birthday Cake", 188, 428),
        ("方包", "吐司", "Sandwich Loaf", 16, 25),
        ("老婆餅", "老婆饼", "Wife Cake", 8, 14),
        ("腸仔包", "肠仔包", "Sausage Roll", 9, 14),
        ("咖啡", "咖啡", "Coffee", 18, 32),
    ),
    "supermarket": (
        ("白米 5kg", "大米 5kg", "Rice 5kg", 58, 98),
        ("雞蛋 10隻", "鸡蛋 10只", "Eggs x10", 22, 36),
        ("菜心", "菜心", "Choy Sum", 12, 22),
        ("豬肉", "猪肉", "Pork Belly", 35, 78),
        ("豆腐", "豆腐", "Tofu", 6, 12),
        ("醬油", "酱油", "Soy Sauce", 12, 28),
        ("粟米油", "食用油", "Cooking Oil", 38, 78),
        ("蘋果", "苹果", "Apples", 15, 35),
        ("香蕉", "香蕉", "Bananas", 10, 22),
        ("洗潔精", "洗洁精", "Dish Soap", 15, 30),
        ("廁紙", "卫生纸", "Toilet Paper", 35, 68),
        ("即食麵", "方便面", "Instant Noodles", 12, 28),
        ("雞翼", "鸡翅", "Chicken Wings", 28, 55),
        ("牛奶", "牛奶", "Milk 1L", 12, 22),
        ("啤酒", "啤酒", "Beer 6pk", 25, 60),
        ("洗衣液", "洗衣液", "Laundry Liquid", 35, 89),
    ),
    "milktea": (
        ("珍珠奶茶", "珍珠奶茶", "Bubble Milk Tea", 22, 32),
        ("楊枝甘露", "杨枝甘露", "Mango Pomelo Sago", 28, 38),
        ("芝士奶蓋綠茶", "芝士奶盖绿茶", "Cheese Foam Tea", 26, 36),
        ("檸檬綠茶", "柠檬绿茶", "Lemon Green Tea", 20, 28),
        ("黑糖鮮奶", "黑糖鲜奶", "Brown Sugar Milk", 26, 36),
        ("加珍珠", "加珍珠", "Add Pearls", 3, 5),
        ("多肉葡萄", "多肉葡萄", "Grape Slush", 26, 34),
    ),
    "cafe": (
        ("", "", "Flat White", 36, 48),
        ("", "", "Latte", 36, 48),
        ("", "", "Americano", 30, 40),
        ("", "", "Cappuccino", 36, 46),
        ("", "", "Iced Latte", 40, 50),
        ("", "", "Chai Latte", 38, 48),
        ("", "", "Croissant", 22, 32),
        ("", "", "Avocado Toast", 78, 108),
        ("", "", "Banana Bread", 28, 38),
        ("", "", "Blueberry Muffin", 26, 34),
        ("", "", "Bagel Cream Cheese", 32, 45),
        ("", "", "Oat Milk +", 5, 8),
        ("", "", "Eggs Benedict", 98, 138),
    ),
}

HK_DISTRICTS = (
    ("旺角", "Mong Kok", "九龍", "Kowloon", "彌敦道", "Nathan Road"),
    ("銅鑼灣", "Causeway Bay", "香港", "Hong Kong", "軒尼詩道", "Hennessy Road"),
    ("沙田", "Sha Tin", "新界", "N.T.", "沙田正街", "Sha Tin Centre St"),
    ("觀塘", "Kwun Tong", "九龍", "Kowloon", "開源道", "Hoi Yuen Road"),
    ("荃灣", "Tsuen Wan", "新界", "N.T.", "沙咀道", "Sha Tsui Road"),
    ("深水埗", "Sham Shui Po", "九龍", "Kowloon", "北河街", "Pei Ho Street"),
    ("灣仔", "Wan Chai", "香港", "Hong Kong", "莊士敦道", "Johnston Road"),
)
MO_DISTRICTS = (
    ("新口岸", "NAPE", "澳門", "Macau", "友誼大馬路", "Av. da Amizade"),
    ("氹仔", "Taipa", "澳門", "Macau", "官也街", "Rua do Cunha"),
)
CN_CITIES = (
    ("广州市", "天河区", "天河路", "020"),
    ("深圳市", "福田区", "深南大道", "0755"),
    ("上海市", "徐汇区", "漕溪北路", "021"),
    ("北京市", "朝阳区", "建国路", "010"),
    ("杭州市", "西湖区", "文三路", "0571"),
    ("成都市", "锦江区", "春熙路", "028"),
)
EN_STREETS = {
    "HKD": ("Queen's Road Central", "Des Voeux Road", "Wyndham Street", "Hollywood Road"),
    "SGD": ("Orchard Road", "Telok Ayer Street", "Tanjong Pagar Road"),
    "MYR": ("Jalan Bukit Bintang", "Jalan Ampang", "Jalan Alor"),
}

TOTAL_LABELS = {
    "hk": (
        "總計", "合計", "總額", "實收", "應付", "TOTAL", "GRAND TOTAL", "AMOUNT DUE",
        "總計 TOTAL", "合計 Total", "總額 NETT TOTAL", "應付 AMOUNT DUE",
    ),
    "cn": ("合计", "应付金额", "实付", "实收", "总计", "应付", "实付金额", "合计金额"),
    "en": ("TOTAL", "GRAND TOTAL", "AMOUNT DUE", "NETT TOTAL", "Total", "TOTAL DUE"),
}  # fmt: skip
SUBTOTAL_LABELS = {
    "hk": ("小計", "小計 Sub-Total", "SUBTOTAL"),
    "cn": ("小计", "商品金额", "小计金额"),
    "en": ("SUBTOTAL", "Sub Total", "Subtotal"),
}
DISCOUNT_LABELS = {
    "hk": ("折扣", "會員折扣", "DISCOUNT", "折扣 Discount"),
    "cn": ("优惠", "折扣", "会员优惠", "优惠金额"),
    "en": ("DISCOUNT", "Member Disc", "Promo"),
}
SERVICE_LABELS = {
    "hk": ("服務費 10%", "加一服務費", "SERVICE CHARGE 10%", "服務費 Svc Chg 10%"),
    "cn": ("服务费 10%",),
    "en": ("SERVICE CHARGE 10%", "Svc Chg 10%"),
}
ROUNDING_LABELS = {
    "hk": ("捨入", "Rounding", "進位調整"),
    "cn": ("抹零", "舍入"),
    "en": ("ROUNDING ADJ", "Rounding"),
}
COUNT_LABELS = {"hk": ("件數", "數量 Qty"), "cn": ("件数", "数量"), "en": ("Items", "Qty")}
RECEIPT_NO_LABELS = {
    "hk": ("單號", "收據編號", "Receipt No.", "Inv No.", "單號 No."),
    "cn": ("单号", "流水号", "小票号", "订单号"),
    "en": ("Receipt #", "Inv No.", "Bill No", "Check #", "Receipt No"),
}
DATE_LABELS = {
    "hk": ("日期", "Date", "日期 Date", None),
    "cn": ("日期", "时间", "交易时间", None),
    "en": ("Date", "DATE", None),
}
FOOTERS = {
    "hk": (
        "多謝惠顧", "歡迎再次光臨", "Thank you! Please come again", "請保留收據",
        "多謝光臨 Thank You", "貨品售出 恕不退換",
    ),
    "cn": ("谢谢惠顾", "欢迎再次光临", "请妥善保管小票", "开具发票请扫码", "多谢惠顾 欢迎下次光临"),
    "en": ("THANK YOU", "Please come again", "Goods sold are not refundable", "See you soon!"),
}  # fmt: skip
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
