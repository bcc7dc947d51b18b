"""Contacts: call lists (outbound), the work console, inbound logs; phone numbers encrypted at rest."""
