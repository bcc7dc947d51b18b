"""The catalogue of skill tags. Codes are stable; the Academy's catalogue refers to them."""

from __future__ import annotations

TAG_CATALOGUE: list[tuple[str, str, str, str]] = [
    ("industry.ecommerce", "industry", "电商", "E-commerce"),
    ("industry.food_delivery", "industry", "外卖配送", "Food delivery"),
    ("industry.finance", "industry", "银行金融", "Banking & finance"),
    ("industry.telecom", "industry", "通信", "Telecom"),
    ("industry.utilities", "industry", "水电燃气", "Utilities"),
    ("industry.travel", "industry", "旅游出行", "Travel"),
    ("skill.inbound_support", "skill", "呼入客服", "Inbound support"),
    ("skill.outbound_callback", "skill", "外呼回访", "Outbound callback"),
    ("skill.satisfaction_survey", "skill", "满意度调查", "Satisfaction survey"),
    ("skill.marketing_reactivation", "skill", "营销唤醒", "Marketing & reactivation"),
    ("skill.complaint_handling", "skill", "投诉处理", "Complaint handling"),
    ("skill.after_sales", "skill", "售后服务", "After-sales"),
    ("lang.mandarin", "language", "普通话", "Mandarin"),
    ("lang.cantonese", "language", "粤语", "Cantonese"),
    ("lang.english", "language", "英语", "English"),
    ("lang.sichuanese", "language", "四川话", "Sichuanese"),
]

TAG_CODES = frozenset(code for code, *_ in TAG_CATALOGUE)
INDUSTRY_CODES = [code for code, kind, *_ in TAG_CATALOGUE if kind == "industry"]
LANGUAGE_CODES = [code for code, kind, *_ in TAG_CATALOGUE if kind == "language"]
