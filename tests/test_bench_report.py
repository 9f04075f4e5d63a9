"""bench/report.py: the logins section and its target (issue 20)."""

import re

from bench import report

LOGINS = {
    "rounds": 5,
    "at_once": 20,
    "workers": 4,
    "argon2": {"memory_kib": 19456, "passes": 2},
    "machine": "a test machine",
    "load": [0.5, 1.5],
    "rows": [
        {
            "hasher": "PBKDF2 (Django's default)",
            "alone_ms": 600.0,
            "at_once_median_ms": 3000.0,
            "at_once_slowest_ms": 4500.0,
        },
        {
            "hasher": "Argon2id (Vermilion)",
            "alone_ms": 20.0,
            "at_once_median_ms": 150.0,
            "at_once_slowest_ms": 999.0,
        },
    ],
}


def test_the_logins_target_judges_argon2ids_slowest_wait():
    [(name, figure, met)] = report.logins_targets(LOGINS)
    assert met and "999.0 ms" in figure and "20 logins at once" in name
    slow = {**LOGINS, "rows": [{**row, "at_once_slowest_ms": 1000.1} for row in LOGINS["rows"]]}
    assert not report.logins_targets(slow)[0][2]


def test_the_logins_text_names_both_hashers_and_the_cost():
    text = report.logins_text(LOGINS)
    assert "19456 KiB, 2 passes" in text
    assert "| PBKDF2 (Django's default) | 600.0 | 3000.0 | 4500.0 |" in text


def test_the_document_has_a_place_for_every_section_the_report_writes():
    text = report.DOC.read_text()
    for name in ("run", "targets", "data", "pages", "plans", "load", "peer", "logins"):
        assert re.search(rf"<!-- bench:{name} -->\n.*?\n<!-- /bench:{name} -->", text, re.S), name


def test_the_page_bench_counts_no_savepoint_of_its_own_rollback_wrapper():
    from bench.pages import _counted

    queries = [
        {"sql": 'SAVEPOINT "s1_x1"'},
        {"sql": 'INSERT INTO "bookings_appointment" ...'},
        {"sql": 'RELEASE SAVEPOINT "s1_x1"'},
    ]
    assert [q["sql"] for q in _counted(queries)] == ['INSERT INTO "bookings_appointment" ...']
