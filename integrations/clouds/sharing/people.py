"""The invented people of the demo city, known to the population twin and to every twin that keeps records of
one's own. A module of its own, importing nothing of the sandbox, so any twin can import it first."""

from app.identity.resident_id import make_valid

# Invented people, one per district: region code + birth date + sequence (odd = male) + check digit.
DEMO_CITIZENS = [
    {"name": "张伟", "id_number": make_valid("37040219850612031")},
    {"name": "王芳", "id_number": make_valid("37040319900307042")},
    {"name": "李娜", "id_number": make_valid("37040419781125020")},  # ends in X: the check character must survive
    {"name": "刘洋", "id_number": make_valid("37040520010918017")},
    {"name": "陈静", "id_number": make_valid("37040619670401028")},
    {"name": "孙浩", "id_number": make_valid("37048119951230053")},
]
# Their relatives, for family members (就诊人/游客): with the citizens, enough people to fill a family and more.
DEMO_RELATIVES = [
    {"name": "赵丽", "id_number": make_valid("37040219870823062")},
    {"name": "张子涵", "id_number": make_valid("37040220150614021")},
    {"name": "张建国", "id_number": make_valid("37040219580302013")},
    {"name": "周秀英", "id_number": make_valid("37040219600715024")},
    {"name": "王磊", "id_number": make_valid("37040319880119035")},
    {"name": "李明轩", "id_number": make_valid("37040420120930015")},
]
