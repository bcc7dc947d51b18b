"""Insight has no tables of its own; these are the indexes its reads need on other domains' tables.

Declared here (and created by migration 0012) so the models' metadata and the migrations describe the same schema.
"""

from sqlalchemy import Index

from app.quality.models import Inspection

# The campaign dashboard counts a campaign's inspected contacts (the QA pass rate's denominator).
ix_qa_inspections_campaign_id = Index("ix_qa_inspections_campaign_id", Inspection.campaign_id)
