"""Plumbing shared by every domain: database, clock, errors, money, jobs."""
