"""Words for the held-out synthetic receipts (``--vocab holdout``): none of ``vocab``'s.

The reading engine was tuned against receipts made from ``vocab``; these shop names,
shop kinds, items, streets, total, subtotal and date labels, titles and payment lines
are kept out of it (``tests/test_synth_holdout.py`` checks that the key lists share
nothing with ``vocab``), so a benchmark on them measures how the engine does on wording
it has never seen. Do not copy words from here into the parser's rules or ``vocab``.

Regions: ``hk`` receipts are from Hong Kong and, here, Taiwan (``tw``: NT$, whole
dollars, 民國 years); ``cn`` mainland; ``en`` Hong Kong, Singapore and Malaysia.
"""

from __future__ import annotations

# (Traditional, Simplified, Cantonese romanisation, Pinyin), none in vocab.NAME_SYLLABLES.
NAME_SYLLABLES: tuple[tuple[str, str, str, str], ...] = (
    ("嘉", "嘉", "KA", "JIA"),
    ("晴", "晴", "CHING", "QING"),
    ("雅", "雅", "NGA", "YA"),
    ("逸", "逸", "YAT", "YI"),
    ("豐", "丰", "FUNG", "FENG"),
    ("朗", "朗", "LONG", "LANG"),
    ("芳", "芳", "FONG", "FANG"),
    ("怡", "怡", "YEE", "YI"),
    ("宏", "宏", "WANG", "HONG"),
    ("億", "亿", "YIK", "YI"),
    ("仁", "仁", "YAN", "REN"),
    ("恒", "恒", "HANG", "HENG"),
    ("志", "志", "CHI", "ZHI"),
    ("森", "森", "SUM", "SEN"),
    ("柏", "柏", "PAK", "BAI"),
    ("蔚", "蔚", "WAI", "WEI"),
    ("信", "信", "SHUN", "XIN"),
    ("永", "永", "WING", "YONG"),
)
# A second way to make a name: a person's name and a trade word (阿強粥麵, 老陳水果).
NICKNAMES: tuple[tuple[str, str, str], ...] = (
    ("阿強", "阿强", "AH KEUNG"),
    ("老陳", "老陈", "LO CHAN"),
    ("阿芬", "阿芬", "AH FAN"),
    ("肥仔", "肥仔", "FAT JAI"),
    ("老王", "老王", "LO WONG"),
    ("小林", "小林", "SIU LAM"),
)

# (Chinese suffix, English words, item kind); none of these suffixes is in vocab.
HK_SHOPS: tuple[tuple[str, str, str], ...] = (
    ("粥麵店", "CONGEE & NOODLE", "noodle"),
    ("車仔麵", "CART NOODLES", "noodle"),
    ("士多", "STORE", "grocery"),
    ("海味店", "DRIED SEAFOOD", "dried"),
    ("涼茶舖", "HERBAL TEA", "herbal"),
    ("文具店", "STATIONERY", "stationery"),
    ("花店", "FLORIST", "florist"),
    ("甜品店", "DESSERT", "dessert"),
    ("五金行", "HARDWARE", "hardware"),
)
TW_SHOPS: tuple[tuple[str, str, str], ...] = (
    ("早餐店", "BREAKFAST", "breakfast"),
    ("飲料店", "DRINKS", "drinks"),
    ("滷味", "LU WEI", "snack"),
    ("書局", "BOOKSTORE", "books"),
    ("文具行", "STATIONERY", "stationery"),
)
CN_SHOPS: tuple[tuple[str, str, str], ...] = (
    ("小吃店", "SNACKS", "snack"),
    ("水果店", "FRUIT", "fruit"),
    ("火锅", "HOTPOT", "hotpot"),
    ("包子铺", "BUNS", "breakfast"),
    ("饺子馆", "DUMPLINGS", "dumpling"),
    ("文具店", "STATIONERY", "stationery"),
    ("鲜花店", "FLOWERS", "florist"),
    ("书店", "BOOKS", "books"),
    ("五金店", "HARDWARE", "hardware"),
)
EN_FIRST = (
    "Juniper", "Saltwater", "Lantern", "Bamboo", "Cobalt", "Ironbark", "Willow",
    "Paper Crane", "Marina", "Red Brick", "Tamarind", "Silver Birch", "Sandpiper",
    "Kingfisher", "Jade Garden", "Morning Star",
)  # fmt: skip
EN_SHOPS: tuple[tuple[str, str], ...] = (
    ("Noodle Bar", "noodle"),
    ("Juice Co.", "drinks"),
    ("Books", "books"),
    ("Florist", "florist"),
    ("Hardware", "hardware"),
    ("Dim Sum House", "dimsum"),
    ("Kopitiam", "kopitiam"),
    ("Stationers", "stationery"),
    ("Dessert Parlour", "dessert"),
    ("Fruit Stall", "fruit"),
)

# (Traditional, Simplified, English, low HKD, high HKD)
ITEMS: dict[str, tuple[tuple[str, str, str, int, int], ...]] = {
    "noodle": (
        ("及第粥", "及第粥", "Pork Offal Congee", 32, 42),
        ("皮蛋瘦肉粥", "皮蛋瘦肉粥", "Century Egg Congee", 30, 40),
        ("牛腩河", "牛腩河粉", "Brisket Rice Noodles", 40, 52),
        ("魚蛋粉", "鱼蛋粉", "Fishball Noodles", 30, 38),
        ("炸兩", "炸两", "Rice Roll Cruller", 18, 26),
        ("油菜", "油菜", "Greens w Oyster Sauce", 16, 22),
        ("豬皮蘿蔔", "猪皮萝卜", "Pork Skin Radish", 28, 36),
    ),
    "grocery": (
        ("汽水", "汽水", "Soda Can", 8, 11),
        ("火柴", "火柴", "Matches", 3, 6),
        ("紙包豆奶", "盒装豆奶", "Soy Milk Pack", 6, 9),
        ("餅乾", "饼干", "Crackers", 12, 20),
        ("蚊香", "蚊香", "Mosquito Coil", 15, 25),
        ("啫喱", "果冻", "Jelly Cup", 5, 9),
    ),
    "dried": (
        ("花菇 半斤", "花菇 半斤", "Shiitake 300g", 120, 260),
        ("瑤柱 四兩", "干贝 四两", "Dried Scallop 150g", 180, 420),
        ("蝦米", "虾米", "Dried Shrimp", 48, 90),
        ("紅棗", "红枣", "Red Dates", 30, 55),
        ("杞子", "枸杞", "Goji Berries", 35, 68),
        ("陳皮", "陈皮", "Aged Peel", 88, 220),
    ),
    "herbal": (
        ("廿四味", "廿四味", "24 Herb Tea", 14, 20),
        ("五花茶", "五花茶", "Five Flower Tea", 12, 18),
        ("龜苓膏", "龟苓膏", "Herbal Jelly", 28, 38),
        ("火麻仁", "火麻仁", "Hemp Seed Drink", 14, 20),
        ("雞骨草", "鸡骨草", "Abrus Tea", 14, 20),
    ),
    "stationery": (
        ("原子筆", "圆珠笔", "Ballpoint Pen", 5, 15),
        ("筆記簿", "笔记本", "Notebook A5", 12, 38),
        ("改錯帶", "修正带", "Correction Tape", 10, 22),
        ("A4 影印紙", "A4 复印纸", "A4 Paper 500s", 38, 60),
        ("釘書機", "订书机", "Stapler", 25, 68),
        ("膠水", "胶水", "Glue Stick", 6, 15),
    ),
    "florist": (
        ("玫瑰 一打", "玫瑰 一打", "Roses x12", 180, 480),
        ("向日葵", "向日葵", "Sunflower Stem", 25, 45),
        ("百合花束", "百合花束", "Lily Bouquet", 220, 580),
        ("小盆栽", "小盆栽", "Potted Succulent", 35, 88),
        ("包裝紙", "包装纸", "Gift Wrap", 10, 25),
    ),
    "books": (
        ("小說", "小说", "Paperback Novel", 78, 168),
        ("漫畫", "漫画", "Comic Vol.", 38, 58),
        ("雜誌", "杂志", "Magazine", 30, 60),
        ("字典", "字典", "Dictionary", 120, 260),
        ("書套", "书套", "Book Cover", 8, 18),
    ),
    "dessert": (
        ("芒果西米露", "芒果西米露", "Mango Sago", 28, 38),
        ("豆腐花", "豆腐花", "Tofu Pudding", 18, 26),
        ("湯圓", "汤圆", "Glutinous Balls", 24, 34),
        ("雙皮奶", "双皮奶", "Double Skin Milk", 26, 36),
        ("紅豆沙", "红豆沙", "Red Bean Soup", 20, 28),
    ),
    "hardware": (
        ("螺絲批", "螺丝刀", "Screwdriver", 25, 68),
        ("燈膽", "灯泡", "LED Bulb", 18, 45),
        ("拖板", "插线板", "Power Strip", 58, 138),
        ("電工膠布", "电工胶布", "Insulating Tape", 8, 15),
        ("鎖匙扣", "钥匙扣", "Key Ring", 5, 12),
        ("油掃", "油漆刷", "Paint Brush", 12, 35),
    ),
    "breakfast": (
        ("蛋餅", "蛋饼", "Egg Crepe", 8, 14),
        ("蘿蔔糕", "萝卜糕", "Turnip Cake", 8, 14),
        ("豆漿", "豆浆", "Soy Milk", 5, 9),
        ("紫米飯糰", "紫米饭团", "Purple Rice Roll", 12, 18),
        ("小籠包", "小笼包", "Soup Dumplings", 14, 24),
        ("鐵板麵", "铁板面", "Griddle Noodles", 14, 22),
    ),
    "drinks": (
        ("多多綠", "多多绿", "Yakult Green Tea", 12, 18),
        ("冬瓜檸檬", "冬瓜柠檬", "Winter Melon Lemon", 12, 18),
        ("鮮榨橙汁", "鲜榨橙汁", "Fresh Orange Juice", 20, 32),
        ("西瓜汁", "西瓜汁", "Watermelon Juice", 18, 30),
        ("椰子水", "椰子水", "Coconut Water", 18, 28),
    ),
    "snack": (
        ("滷豆干", "卤豆干", "Braised Tofu", 6, 12),
        ("雞翅", "卤鸡翅", "Braised Wings", 12, 22),
        ("鴨血", "鸭血", "Duck Blood", 6, 10),
        ("煎餃", "锅贴", "Pan-fried Dumplings", 14, 24),
        ("臭豆腐", "臭豆腐", "Stinky Tofu", 14, 22),
    ),
    "fruit": (
        ("榴槤", "榴莲", "Durian", 120, 380),
        ("士多啤梨", "草莓", "Strawberries", 38, 78),
        ("提子", "葡萄", "Grapes", 28, 60),
        ("火龍果", "火龙果", "Dragon Fruit", 15, 28),
        ("車厘子", "车厘子", "Cherries", 68, 168),
    ),
    "hotpot": (
        ("肥牛", "肥牛", "Sliced Beef", 58, 98),
        ("鴛鴦鍋底", "鸳鸯锅底", "Twin Soup Base", 48, 78),
        ("蝦滑", "虾滑", "Shrimp Paste", 38, 58),
        ("毛肚", "毛肚", "Beef Tripe", 42, 68),
        ("茶位", "茶位", "Tea Per Person", 5, 10),
    ),
    "dumpling": (
        ("豬肉白菜餃", "猪肉白菜饺", "Pork Cabbage Dumplings", 20, 32),
        ("韭菜餃", "韭菜饺", "Chive Dumplings", 20, 30),
        ("酸辣湯", "酸辣汤", "Hot Sour Soup", 12, 20),
        ("拍黃瓜", "拍黄瓜", "Smashed Cucumber", 10, 16),
    ),
    "dimsum": (
        ("", "", "Har Gow", 32, 46),
        ("", "", "Siu Mai", 30, 44),
        ("", "", "Char Siu Bao", 26, 36),
        ("", "", "Cheung Fun", 28, 42),
        ("", "", "Chinese Tea", 8, 15),
    ),
    "kopitiam": (
        ("", "", "Kopi O", 5, 8),
        ("", "", "Teh Tarik", 6, 9),
        ("", "", "Kaya Toast Set", 12, 18),
        ("", "", "Half-boiled Eggs", 6, 10),
        ("", "", "Nasi Lemak", 14, 24),
        ("", "", "Milo Dinosaur", 9, 14),
    ),
}

HK_DISTRICTS = (
    ("元朗", "Yuen Long", "新界", "N.T.", "青山公路", "Castle Peak Road"),
    ("將軍澳", "Tseung Kwan O", "新界", "N.T.", "唐德街", "Tong Tak Street"),
    ("北角", "North Point", "香港", "Hong Kong", "英皇道", "King's Road"),
    ("土瓜灣", "To Kwa Wan", "九龍", "Kowloon", "馬頭角道", "Ma Tau Kok Road"),
    ("西營盤", "Sai Ying Pun", "香港", "Hong Kong", "第三街", "Third Street"),
)
TW_CITIES = (
    ("台北市", "大安區", "忠孝東路四段", "02"),
    ("台中市", "西區", "公益路二段", "04"),
    ("高雄市", "苓雅區", "中正一路", "07"),
    ("新北市", "板橋區", "文化路一段", "02"),
)
CN_CITIES = (
    ("南京市", "鼓楼区", "中山北路", "025"),
    ("武汉市", "江汉区", "解放大道", "027"),
    ("西安市", "雁塔区", "小寨东路", "029"),
    ("苏州市", "姑苏区", "观前街", "0512"),
    ("厦门市", "思明区", "中山路", "0592"),
)
EN_STREETS = {
    "HKD": ("Lockhart Road", "Kimberley Road", "Stanley Street"),
    "SGD": ("Beach Road", "Joo Chiat Road", "Bukit Timah Road"),
    "MYR": ("Jalan Petaling", "Jalan Telawi", "Lebuh Chulia"),
}

# The lines the reader must find. tw: Taiwanese receipts of the hk style.
TOTAL_LABELS = {
    "hk": (
        "應收", "應收金額", "實收金額", "合計金額", "總金額", "應付總額", "淨額",
        "應收 NETT", "實收金額 AMOUNT", "應付總額 TOTAL DUE",
    ),
    "tw": ("消費總額", "應收金額", "總金額", "實付金額", "合計金額", "金額合計"),
    "cn": (
        "应收", "应收金额", "实付款", "总金额", "应付总额", "实收金额", "消费金额",
        "支付金额", "本单应付",
    ),
    "en": (
        "AMOUNT", "NETT", "NETT AMOUNT", "AMOUNT PAYABLE", "TOTAL PAYABLE", "TOTAL AMOUNT",
        "NET AMOUNT", "TOTAL SALES", "TO PAY", "Amount to Pay", "BALANCE DUE",
    ),
}  # fmt: skip
REFUND_TOTAL_LABELS = {
    "hk": ("退款金額", "退貨總額", "應退金額"),
    "tw": ("退款金額", "退貨金額"),
    "cn": ("退款金额", "应退金额", "退货合计"),
    "en": ("REFUND TOTAL", "AMOUNT REFUNDED", "TOTAL REFUND", "REFUND DUE"),
}
REFUND_TITLES = {
    "hk": ("退貨單", "退款單 REFUND"),
    "tw": ("退貨單", "銷貨退回"),
    "cn": ("退货单", "退款小票"),
    "en": ("REFUND", "*** REFUND ***", "RETURN RECEIPT", "CREDIT NOTE"),
}
REFUND_PAYMENTS = {
    "hk": ("退回現金", "退款至信用卡", "退回八達通"),
    "tw": ("退回現金", "退刷信用卡"),
    "cn": ("原路退回", "退回微信", "退回支付宝"),
    "en": ("Cash Refunded", "Refund to VISA", "Refund to Card"),
}
TITLES = {
    "hk": ("收據", "收據 RECEIPT", "銷售單", "發票 INVOICE", "歡迎光臨"),
    "tw": ("收據", "交易明細", "歡迎光臨"),
    "cn": ("销售小票", "购物小票", "结账单", "收银小票", "欢迎光临"),
    "en": ("TAX INVOICE", "SALES RECEIPT", "CASH BILL", "OFFICIAL RECEIPT", "WELCOME"),
}
TW_EINVOICE = "電子發票證明聯"
SUBTOTAL_LABELS = {
    "hk": ("貨品總額", "商品總價", "小結", "SUB-TTL"),
    "tw": ("小計金額", "商品小計"),
    "cn": ("商品合计", "商品总价", "小结"),
    "en": ("SUB-TTL", "Sub Ttl", "ITEM TOTAL", "Goods Total"),
}
# Printed before a discount or rounding: amounts a reader must not take for the total.
BEFORE_DISCOUNT_LABELS = {
    "hk": ("原價總額", "折前金額"),
    "tw": ("原價合計", "折扣前金額"),
    "cn": ("原价合计", "优惠前金额"),
    "en": ("Total before Disc", "Gross Amount"),
}
BEFORE_ROUNDING_LABELS = {
    "hk": ("未調整金額", "調整前"),
    "tw": ("調整前金額",),
    "cn": ("应收原价", "凑整前金额"),
    "en": ("Amount b/f Rounding", "Total Sales (Incl. Tax)", "Total before Rounding"),
}
DISCOUNT_LABELS = {
    "hk": ("優惠", "折讓", "減免", "優惠券", "會員優惠"),
    "tw": ("折價券", "會員折抵", "滿額折"),
    "cn": ("立减", "满减", "券抵扣", "会员折扣"),
    "en": ("LESS: VOUCHER", "Disc.", "Member Savings", "Promo Disc"),
}
SERVICE_LABELS = {
    "hk": ("服務費(10%)", "一成服務費", "SVC 10%"),
    "tw": ("服務費10%",),
    "cn": ("服务费(10%)", "包间服务费"),
    "en": ("Service 10%", "SVC CHG 10%", "S/C 10%"),
}
ROUNDING_LABELS = {
    "hk": ("尾數調整", "進整", "Round Adj."),
    "cn": ("零头", "凑整", "尾差"),
    "en": ("Rounding Adj.", "ROUND", "Cash Rounding"),
}
TAX_LABELS = {"SGD": ("GST @9%", "9% GST"), "MYR": ("Service Tax 8%", "SST @8%")}
DATE_LABELS = {
    "hk": ("交易日期", "銷售日期", "日期/Date", "日期時間", None),
    "tw": ("交易時間", "開立日期", "銷售時間", None),
    "cn": ("开票日期", "消费时间", "下单时间", "结账时间", "日期时间", None),
    "en": ("Trans Date", "Txn Date", "Sale Date", "Printed", "Date/Time", "Issued", None),
}
TIME_LABELS = {"hk": "時間", "tw": "時間", "cn": "时间", "en": "Time"}
RECEIPT_NO_LABELS = {
    "hk": ("收據號碼", "發票號碼", "交易號"),
    "tw": ("發票號碼", "序號"),
    "cn": ("票号", "交易号", "收据号"),
    "en": ("Txn #", "Doc No.", "Invoice #", "Ref"),
}
COLUMN_HEADERS = {
    "hk": (("貨品", "數", "單價", "金額"), ("名稱", "數量", "單價", "小計")),
    "tw": (("品名", "數量", "單價", "金額"), ("品項", "數", "單價", "小計")),
    "cn": (("品名", "数", "单价", "金额"), ("商品", "数量", "单价", "金额")),
    "en": (("DESC", "QTY", "U/P", "AMT"), ("Item", "Qty", "Price", "Total")),
}
META = {
    "hk": (("收銀", "Cashier"), ("檯號", "Table"), ("人數", "Pax"), ("店號", "Store")),
    "tw": (("收銀員", ""), ("桌號", ""), ("機號", ""), ("統一編號", "")),
    "cn": (("收银", ""), ("台号", ""), ("人数", ""), ("门店号", "")),
    "en": (("Server", ""), ("Tbl", ""), ("Covers", ""), ("Station", "")),
}
FOOTERS = {
    "hk": ("謝謝光臨", "歡迎下次再來", "貨物出門 概不退換", "Thanks for shopping"),
    "tw": ("謝謝光臨", "請保留發票", "退換貨請持收據"),
    "cn": ("谢谢光临", "欢迎您再来", "凭小票七天内退换", "扫码关注公众号"),
    "en": ("THANKS FOR VISITING", "Have a nice day", "No refund without receipt", "Cheers!"),
}

# Payment lines (label pools by region and kind) and the stored-value balances they print.
PAYMENT_LABELS = {
    ("hk", "cash"): ("收現", "現金收款", "現金 CASH RECEIVED"),
    ("hk", "change"): ("找續金額", "找回", "找續 CHANGE GIVEN"),
    ("hk", "octopus"): ("八達通付款", "八達通 Octopus Payment"),
    ("hk", "alipay"): ("支付宝 AlipayHK", "AlipayHK 付款"),
    ("hk", "wechat"): ("微信支付 HK", "WeChat Pay 微信支付"),
    ("hk", "card"): ("信用卡付款", "VISA 信用卡", "銀聯卡"),
    ("tw", "cash"): ("現金", "收現金"),
    ("tw", "change"): ("找零", "找錢"),
    ("tw", "easycard"): ("悠遊卡", "悠遊卡付款"),
    ("tw", "linepay"): ("LINE Pay", "街口支付"),
    ("tw", "card"): ("信用卡", "刷卡"),
    ("cn", "cash"): ("现金收款", "收现"),
    ("cn", "change"): ("找零金额", "找零"),
    ("cn", "alipay"): ("支付宝付款", "支付宝扫码"),
    ("cn", "wechat"): ("微信支付(扫码)", "微信扫码付"),
    ("cn", "card"): ("银联刷卡", "储蓄卡"),
    ("cn", "stored"): ("会员卡支付", "储值卡"),
    ("en", "cash"): ("CASH RECEIVED", "Amount Tendered", "Cash Paid"),
    ("en", "change"): ("CHANGE GIVEN", "Change Returned", "BALANCE"),
    ("en", "card"): ("VISA CREDIT", "MASTERCARD DEBIT", "PayWave"),
    ("en", "octopus"): ("Octopus Payment",),
    ("en", "wallet"): ("TNG eWallet", "GrabPay", "PayNow", "NETS"),
}
BALANCE_LABELS = {
    ("hk", "octopus"): ("八達通餘額", "Octopus balance", "餘額 Remaining"),
    ("tw", "easycard"): ("悠遊卡餘額", "卡片餘額"),
    ("cn", "stored"): ("卡内余额", "会员卡余额"),
    ("en", "octopus"): ("Octopus balance", "Remaining Balance"),
}
# Loyalty lines after the payment: numbers (points, savings) next to money words.
POINTS_LABELS = {
    "hk": ("本次積分", "累積積分", "會員積分餘額"),
    "tw": ("本次點數", "累積點數"),
    "cn": ("本次积分", "累计积分"),
    "en": ("Points Earned", "Points Balance", "Member Pts"),
}
SAVED_LABELS = {
    "hk": ("今次節省", "已慳"),
    "tw": ("本次共省",),
    "cn": ("本次节省", "共优惠"),
    "en": ("You Saved", "Savings Today"),
}

MONTHS_LONG = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
