"""Insight: campaign and platform dashboards, exports, and the voice of the customer."""
