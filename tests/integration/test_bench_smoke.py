"""The board bench runs end to end on a tiny SQLite database and finds the statements per page constant."""

from bench import board


def test_board_bench_tiny_on_sqlite(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)  # a temp SQLite file, never a shared database

    figures = board.main(["--tiny"])

    assert figures["ok"], figures
    assert figures["statements_constant"] is True
    assert figures["database"] == "sqlite"
    given, tenth = figures["sizes"]["given"], figures["sizes"]["tenth"]
    assert given["shifts"] == 300 and tenth["shifts"] == 30
    assert given["pages"] > 0 and not given["failures"] and not tenth["failures"]


def test_kb_search_bench_tiny_on_sqlite(monkeypatch):
    from bench import kb_search

    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)

    figures = kb_search.main(["--tiny"])

    assert figures["ok"], figures
    assert figures["database"] == "sqlite" and figures["articles_indexed"] == 200
    assert figures["statements_per_search"] <= 2 and figures["found_rate"] >= 0.95
