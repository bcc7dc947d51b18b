"""Knowledge base: campaign and platform articles, full-text search (Chinese and English), the console assistant."""
