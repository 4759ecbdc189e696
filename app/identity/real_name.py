"""Real-name verification: name + resident ID, checked locally (GB 11643), then by the population database."""

from __future__ import annotations

from app.clock import utcnow
from app.errors import AppError
from app.identity import citizens, providers, resident_id
from app.identity.models import Citizen
from app.identity.tokens import Caller
from app.security import pii
from integrations.errors import IntegrationError

REASONS = {
    "format": "身份证号应为18位",
    "checksum": "身份证号校验位不正确",
    "birth_date": "身份证号中的出生日期无效",
    "region": "身份证号中的地区码无效",
}


def verify(caller: Caller, name: str, id_number: str) -> Citizen:
    name = name.strip()
    try:
        number = resident_id.validate(id_number).number
    except resident_id.InvalidResidentId as error:
        raise AppError(
            "VALIDATION_FAILED",
            REASONS[error.reason],
            422,
            {"fields": {"id_number": [REASONS[error.reason]]}, "reason": error.reason},
        ) from None
    try:
        result = providers.population_client().verify(name, number)
    except IntegrationError:
        raise AppError(
            "POPULATION_UNAVAILABLE", "实名核验服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}
        ) from None
    if result != "match":
        raise AppError("REAL_NAME_MISMATCH", "姓名与身份证号不一致", 422)
    id_hash = pii.blind_index("id_number", number)
    in_use = AppError("ID_NUMBER_IN_USE", "该身份证号已在其他账号实名", 409)
    with citizens.claiming(caller, "id_number_hash", id_hash, in_use) as citizen:
        citizen.real_name, citizen.id_number, citizen.id_number_hash = name, number, id_hash
        citizen.real_name_verified_at = utcnow()
    return citizen
