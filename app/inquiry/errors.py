"""The errors an inquiry raises from more than one place."""

from app.errors import AppError


def login_required() -> AppError:
    return AppError("UNAUTHORIZED", "请先登录", 401, {}, {"WWW-Authenticate": "Bearer"})


def real_name_required() -> AppError:
    return AppError("REAL_NAME_REQUIRED", "此服务需要先完成实名认证", 403)


def service_unavailable() -> AppError:
    """The service cannot be called now: its connector was switched off or given to another department, or
    the contract key it was approved with was retired. The department or an operator must act."""
    return AppError("SERVICE_UNAVAILABLE", "该服务暂时无法使用，请稍后再试", 503, {}, {"Retry-After": "300"})
