"""Real-name verification: name + resident ID, checked locally (GB 11643), then by the population database.

The same check serves the citizen and their family members (app.identity.family).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError

from app.clock import local, utcnow
from app.errors import AppError
from app.extensions import redis
from app.identity import citizens, providers, resident_id
from app.identity.models import Citizen
from app.identity.tokens import Caller
from app.security import pii
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)

REASONS = {
    "format": "身份证号应为18位",
    "checksum": "身份证号校验位不正确",
    "birth_date": "身份证号中的出生日期无效",
    "region": "身份证号中的地区码无效",
}
# Every check asks the population database whether a name goes with a number: without a cap, adding
# and removing family members would make it an oracle for strangers' identities.
CHECKS_PER_DAY = 20


@dataclass(frozen=True)
class CheckedPerson:
    name: str
    id_number: str
    id_number_hash: str


def valid_number(id_number: str) -> str:
    """The normalised number, or a 422 naming the reason (never the number)."""
    try:
        return resident_id.validate(id_number).number
    except resident_id.InvalidResidentId as error:
        raise AppError(
            "VALIDATION_FAILED",
            REASONS[error.reason],
            422,
            {"fields": {"id_number": [REASONS[error.reason]]}, "reason": error.reason},
        ) from None


def _count_check(caller: Caller) -> None:
    key = f"real-name:checks:{caller.subject}:{local(utcnow()).date().isoformat()}"
    try:
        count, _ = redis.pipeline().incr(key).expire(key, 86400, nx=True).execute()
    except RedisError:
        # No count, no check: the route limits live in the same Redis (and fail open), so letting it
        # through would make the population database an unlimited oracle while Redis is down.
        log.warning("could not count a real-name check; refusing it")
        raise AppError(
            "REAL_NAME_UNAVAILABLE", "实名核验服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}
        ) from None
    if count > CHECKS_PER_DAY:
        raise AppError("REAL_NAME_DAILY_LIMIT", "今日实名核验次数已用完，请明天再试", 429, {}, {"Retry-After": "3600"})


def check_person(caller: Caller, name: str, id_number: str, mismatch: AppError) -> CheckedPerson:
    """Ask the population database about a name and an already valid number; `mismatch` if they differ.

    Outside any transaction: no row is locked while the platform answers.
    """
    _count_check(caller)
    try:
        result = providers.population_client().verify(name, id_number)
    except IntegrationError:
        raise AppError(
            "POPULATION_UNAVAILABLE", "实名核验服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}
        ) from None
    if result != "match":
        raise mismatch
    return CheckedPerson(name, id_number, pii.blind_index("id_number", id_number))


def verify(caller: Caller, name: str, id_number: str) -> Citizen:
    name = name.strip()
    number = valid_number(id_number)
    person = check_person(caller, name, number, AppError("REAL_NAME_MISMATCH", "姓名与身份证号不一致", 422))
    in_use = AppError("ID_NUMBER_IN_USE", "该身份证号已在其他账号实名", 409)
    with citizens.claiming(caller, "id_number_hash", person.id_number_hash, in_use) as citizen:
        citizen.real_name, citizen.id_number, citizen.id_number_hash = name, number, person.id_number_hash
        citizen.real_name_verified_at = utcnow()
    return citizen
