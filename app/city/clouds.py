"""The sixteen clouds of the city's smart-city plan, plus the information-sharing platform."""

CLOUDS: dict[str, tuple[str, str]] = {
    "city_services": ("城市服务云", "City services"),
    "community": ("智慧社区云", "Community"),
    "medical": ("智慧医疗云", "Medical"),
    "tourism": ("智慧旅游云", "Tourism"),
    "social_security": ("智慧社保云", "Social security"),
    "housing": ("智慧住建云", "Housing"),
    "transport": ("智慧交通云", "Transport"),
    "energy": ("智慧节能云", "Energy"),
    "environment": ("智慧环保云", "Environment"),
    "city_management": ("智慧城管云", "City management"),
    "food_drug": ("智慧食药云", "Food and drug"),
    "work_safety": ("智慧安监云", "Work safety"),
    "education": ("智慧教育云", "Education"),
    "agriculture": ("智慧农业云", "Agriculture"),
    "commerce": ("智慧商务云", "Commerce"),
    "industry": ("智慧工业云", "Industry"),
}
SHARING_PLATFORM = "sharing"
PLATFORMS: dict[str, tuple[str, str]] = {
    **CLOUDS,
    SHARING_PLATFORM: ("信息资源共享平台", "Information resource sharing platform"),
}
