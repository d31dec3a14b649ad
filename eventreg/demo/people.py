"""The tables the demo's fictitious delegates are drawn from: names per writing system, countries with their
weights, institutions, categories and positions."""

from ..models import Category

# Fictitious names per writing system: (Latin spelling, native spelling or "" when the Latin one is native).
NAMES = {
    "han": (
        [
            ("Wei", "伟"),
            ("Fang", "芳"),
            ("Na", "娜"),
            ("Min", "敏"),
            ("Jing", "静"),
            ("Lei", "磊"),
            ("Tao", "涛"),
            ("Xiaoming", "晓明"),
            ("Haiyan", "海燕"),
            ("Zhiqiang", "志强"),
            ("Chunli", "春丽"),
            ("Yu", "宇"),
        ],
        [
            ("Wang", "王"),
            ("Li", "李"),
            ("Zhang", "张"),
            ("Liu", "刘"),
            ("Chen", "陈"),
            ("Yang", "杨"),
            ("Huang", "黄"),
            ("Zhao", "赵"),
            ("Zhou", "周"),
            ("Wu", "吴"),
            ("Xu", "徐"),
            ("Sun", "孙"),
        ],
    ),
    "ja": (
        [("Taro", "太郎"), ("Hanako", "花子"), ("Ken", "健"), ("Misaki", "美咲"), ("Hiroshi", "浩"), ("Yuki", "由紀")],
        [("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Tanaka", "田中"), ("Watanabe", "渡辺")],
    ),
    "ko": (
        [("Min-jun", "민준"), ("Seo-yeon", "서연"), ("Ji-hoon", "지훈"), ("Ha-eun", "하은"), ("Do-yun", "도윤")],
        [("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최"), ("Jung", "정")],
    ),
    "ar": (
        [("Mohammed", "محمد"), ("Fatima", "فاطمة"), ("Omar", "عمر"), ("Layla", "ليلى"), ("Youssef", "يوسف")],
        [("Al-Hassan", "الحسن"), ("Mansour", "منصور"), ("Haddad", "حداد"), ("Nasser", "ناصر"), ("Saleh", "صالح")],
    ),
    "hi": (
        [("Anil", "अनिल"), ("Priya", "प्रिया"), ("Rahul", "राहुल"), ("Sunita", "सुनीता"), ("Vikram", "विक्रम")],
        [("Sharma", "शर्मा"), ("Patel", "पटेल"), ("Gupta", "गुप्ता"), ("Singh", "सिंह"), ("Iyer", "अय्यर")],
    ),
    "cyrillic": (
        [("Иван", ""), ("Ольга", ""), ("Дмитрий", ""), ("Наталья", ""), ("Сергей", ""), ("Анна", "")],
        [("Петров", ""), ("Смирнова", ""), ("Кузнецов", ""), ("Попова", ""), ("Соколов", ""), ("Волкова", "")],
    ),
    "greek": (
        [("Γιώργος", ""), ("Μαρία", ""), ("Νίκος", ""), ("Ελένη", "")],
        [("Παπαδόπουλος", ""), ("Νικολάου", ""), ("Οικονόμου", ""), ("Γεωργίου", "")],
    ),
    "latin": (
        [
            ("José", ""),
            ("François", ""),
            ("Zoë", ""),
            ("Łukasz", ""),
            ("Søren", ""),
            ("Ana", ""),
            ("Björn", ""),
            ("Inês", ""),
            ("Miguel", ""),
            ("Chloé", ""),
            ("Jürgen", ""),
            ("Ayşe", ""),
            ("Thandiwe", ""),
            ("Ngozi", ""),
            ("Emily", ""),
            ("David", ""),
            ("Sofía", ""),
            ("Mateus", ""),
            ("Aigerim", ""),
            ("Minh", ""),
        ],
        [
            ("García", ""),
            ("Müller", ""),
            ("Dubois", ""),
            ("Nowak", ""),
            ("Silva", ""),
            ("Rossi", ""),
            ("Jensen", ""),
            ("Kovač", ""),
            ("Öztürk", ""),
            ("Nguyễn", ""),
            ("Smith", ""),
            ("Okafor", ""),
            ("Dvořák", ""),
            ("Lindqvist", ""),
            ("Fernández", ""),
            ("Mbeki", ""),
            ("O'Brien", ""),
            ("Van der Berg", ""),
        ],
    ),
}

# Countries and regions of the demo: (alpha-2 code, writing system of its names, weight).
COUNTRIES = [
    ("CN", "han", 120),
    ("TW", "han", 8),
    ("HK", "han", 8),
    ("MO", "han", 3),
    ("SG", "han", 6),
    ("JP", "ja", 30),
    ("KR", "ko", 25),
    ("RU", "cyrillic", 25),
    ("KZ", "cyrillic", 6),
    ("UA", "cyrillic", 8),
    ("BY", "cyrillic", 3),
    ("IN", "hi", 30),
    ("SA", "ar", 8),
    ("EG", "ar", 10),
    ("AE", "ar", 6),
    ("MA", "ar", 5),
    ("JO", "ar", 4),
    ("GR", "greek", 8),
    ("CY", "greek", 3),
    ("US", "latin", 35),
    ("GB", "latin", 20),
    ("FR", "latin", 20),
    ("DE", "latin", 22),
    ("IT", "latin", 14),
    ("ES", "latin", 12),
    ("PT", "latin", 6),
    ("BR", "latin", 16),
    ("MX", "latin", 10),
    ("AR", "latin", 8),
    ("CL", "latin", 7),
    ("PL", "latin", 9),
    ("CZ", "latin", 6),
    ("SE", "latin", 7),
    ("NO", "latin", 5),
    ("DK", "latin", 5),
    ("FI", "latin", 5),
    ("NL", "latin", 9),
    ("BE", "latin", 6),
    ("CH", "latin", 8),
    ("AT", "latin", 6),
    ("CA", "latin", 12),
    ("AU", "latin", 11),
    ("NZ", "latin", 4),
    ("ZA", "latin", 9),
    ("NG", "latin", 8),
    ("KE", "latin", 6),
    ("ET", "latin", 4),
    ("TR", "latin", 9),
    ("VN", "latin", 7),
    ("TH", "latin", 6),
    ("ID", "latin", 7),
    ("MY", "latin", 6),
    ("PK", "latin", 7),
    ("BD", "latin", 6),
    ("HU", "latin", 5),
    ("RO", "latin", 5),
    ("BO", "latin", 3),
    ("CI", "latin", 3),
    ("VE", "latin", 3),
    ("IR", "latin", 6),
    ("HR", "latin", 3),
    ("SI", "latin", 2),
]

INSTITUTIONS = (
    "National Academy of Sciences, {country}",
    "National Research Council, {country}",
    "Institute of Advanced Studies, {country}",
    "National University, Faculty of Science, {country}",
    "Association for the Advancement of Science, {country}",
)

CATEGORIES = [
    (Category.DELEGATE, 70),
    (Category.OBSERVER, 10),
    (Category.SPEAKER, 6),
    (Category.PRESS, 7),
    (Category.GUEST, 7),
]
POSITIONS = ("President", "Vice-President", "Director", "Professor", "Senior Researcher", "Secretary General", "")

# The ceremony's delegations: (name, country, seat quota, members besides the focal point). Focal points lead and
# take no place under the quota; the Brazilian academy has filled its quota.
DELEGATIONS = (
    ("Chinese Academy of Sciences", "CN", 8, 5),
    ("Russian Academy of Sciences", "RU", 6, 4),
    ("Académie des sciences", "FR", 5, 3),
    ("Academia Brasileira de Ciências", "BR", 4, 4),
    ("Indian National Science Academy", "IN", 6, 2),
)
FOCAL_POSITIONS = ("Director of International Cooperation", "Head of Foreign Relations", "Secretary General")

# The forum's invitation list, as the organizers' spreadsheet exports it (countries as codes, English or native
# names; categories by code or label; an empty category lets the invitee choose).
INVITATION_CSV = """\
email,honorific,given name,family name,native name,institution,position,country,category,language
c.bai.cas@example.org,Prof.,Chunli,Bai,白春礼,Chinese Academy of Sciences,President,CN,speaker,zh_Hans
a.sergeev@example.org,Acad.,Alexander,Sergeev,Александр Сергеев,Russian Academy of Sciences,President,Russia,Speaker,ru
p.corvol.academie@example.org,Prof.,Pierre,Corvol,,Académie des sciences,Honorary President,France,,fr
h.nader.abc@example.org,Prof.,Helena,Nader,,Academia Brasileira de Ciências,President,BR,,es
a.kumar.insa@example.org,Prof.,Ashutosh,Kumar,आशुतोष कुमार,Indian National Science Academy,President,India,,en
m.ahmed.nrc@example.org,Dr.,Mona,Ahmed,منى أحمد,"National Research Centre, Egypt",Vice-President,مصر,,ar
k.tanaka.scj@example.org,Prof.,Kenji,Tanaka,田中健二,Science Council of Japan,Vice-President,JP,,en
l.garcia.ac@example.org,Dr.,Lucía,García,,Academia de Ciencias de Cuba,Secretary,Cuba,,es
j.smith.nas@example.org,Dr.,Jennifer,Smith,,National Academy of Sciences,Foreign Secretary,US,,en
s.okafor.nas-ng@example.org,Prof.,Samuel,Okafor,,Nigerian Academy of Science,President,Nigeria,,en
e.schmidt.leopoldina@example.org,Prof.,Eva,Schmidt,,Leopoldina,Vice-President,Germany,,en
press.sciencedaily@example.org,,Ana,Lopes,,Science Daily,Correspondent,PT,press,en
m.rossi.lincei@example.org,Prof.,Marco,Rossi,,Accademia dei Lincei,President,IT,,fr
j.kim.kast@example.org,Dr.,Ji-hoon,Kim,김지훈,Korean Academy of Science and Technology,Secretary General,KR,,en
t.nguyen.vast@example.org,Dr.,Thu,Nguyen,,Vietnam Academy of Science and Technology,Director,VN,,en
old.address.asm@example.org,Prof.,Mihai,Popescu,,Academy of Sciences of Moldova,President,MD,,ru
president.tas@example.org,Prof.,Kamal,Yusuf,,Tanzania Academy of Sciences,President,TZ,,en
r.haddad.lnas@example.org,Dr.,Rania,Haddad,رانيا حداد,Lebanese Academy of Sciences,Secretary,LB,,ar
o.petrova.nasb@example.org,Dr.,Olga,Petrova,Ольга Петрова,National Academy of Sciences of Belarus,Vice-President,BY,,ru
guest.mfa@example.org,H.E.,Wei,Zhang,张伟,Ministry of Foreign Affairs,Ambassador,CN,guest,zh_Hans
"""
# What became of each invitation: "not_sent", "sent", "opened", "registered", "declined: <reason>" or "failed" (the
# mail server refused the address).
OUTCOMES = {
    "c.bai.cas@example.org": "registered",
    "a.sergeev@example.org": "registered",
    "p.corvol.academie@example.org": "registered",
    "h.nader.abc@example.org": "registered",
    "a.kumar.insa@example.org": "opened",
    "m.ahmed.nrc@example.org": "opened",
    "k.tanaka.scj@example.org": "opened",
    "l.garcia.ac@example.org": "sent",
    "j.smith.nas@example.org": "sent",
    "s.okafor.nas-ng@example.org": "sent",
    "e.schmidt.leopoldina@example.org": "sent",
    "press.sciencedaily@example.org": "sent",
    "m.rossi.lincei@example.org": "declined: Another commitment on that date; our vice-president will write to you.",
    "j.kim.kast@example.org": "declined: No travel budget left this year.",
    "t.nguyen.vast@example.org": "declined: ",
    "old.address.asm@example.org": "failed",
    "president.tas@example.org": "failed",
    "r.haddad.lnas@example.org": "not_sent",
    "o.petrova.nasb@example.org": "not_sent",
    "guest.mfa@example.org": "not_sent",
}
