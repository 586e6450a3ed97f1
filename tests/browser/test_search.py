"""Search finds a pattern by the name engineers type: identifiers and plain phrases alike.

Each query names the page that defines the pattern; it must be among the first three results.
The test prints hit@1 and hit@3 over all queries.
"""

import pytest
from playwright.sync_api import Browser

from tests.browser.site import nav_pages, page_url_path, search

# (query, the page that defines the pattern): identifiers as engineers paste them, and phrases.
QUERIES: list[tuple[str, str]] = [
    ("first_or_default", "database/base-table.md"),
    ("SessionDep", "database/pooling.md"),
    ("soft delete", "database/soft-delete.md"),
    ("problem details", "patterns/errors.md"),
    ("dbmate new", "database/dbmate.md"),
    ("keyset pagination", "patterns/pagination.md"),
    ("middleware order", "architecture/app-factory.md"),
    ("lifespan", "architecture/app-factory.md"),
    ("expire_on_commit", "database/pooling.md"),
    ("pool_pre_ping", "database/pooling.md"),
    ("selectinload", "database/eager-loading.md"),
    ("N+1", "database/eager-loading.md"),
    ("timestamptz", "database/timestamps.md"),
    ("set_updated_at", "database/timestamps.md"),
    ("uuid primary key", "database/uuid-keys.md"),
    ("CREATE INDEX CONCURRENTLY", "database/migration-rules.md"),
    ("expand and contract", "database/migration-rules.md"),
    ("lock_timeout", "database/migration-rules.md"),
    ("sa_type", "database/sqlmodel.md"),
    ("field_validator", "patterns/validation.md"),
    ("exclude_unset", "patterns/repositories.md"),
    ("asyncio.gather", "patterns/async.md"),
    ("TaskGroup", "patterns/async.md"),
    ("HTTPBearer", "patterns/auth.md"),
    ("PyJWT", "patterns/auth.md"),
    ("Content-Security-Policy", "patterns/security-headers.md"),
    ("CORS", "patterns/security-headers.md"),
    ("request id", "patterns/security-headers.md"),
    ("DomainError", "patterns/errors.md"),
    ("application/problem+json", "patterns/errors.md"),
    ("status_code=201", "patterns/endpoints.md"),
    ("envelope", "patterns/request-response-models.md"),
    ("BaseEntity", "database/sqlmodel.md"),
    (".env.example", "devops/configuration.md"),
    ("docker compose", "devops/docker.md"),
    ("structured logging", "patterns/logging.md"),
    ("add a domain", "tutorial.md"),
    ("schema drift", "database/dbmate.md"),
    ("partial unique index", "database/soft-delete.md"),
    ("create_app", "architecture/app-factory.md"),
    ("join_transaction_mode", "devops/testing.md"),
    ("ASGITransport", "devops/testing.md"),
    ("BaseTable", "database/base-table.md"),
    ("atomic batch", "patterns/transactions.md"),
    ("acks_late", "devops/celery.md"),
    ("new project checklist", "devops/new-project-checklist.md"),
    ("rate limiting", "patterns/rate-limiting.md"),
    ("TTLCache", "patterns/caching.md"),
    ("readiness probe", "devops/health.md"),
    ("OpenTelemetry", "devops/observability.md"),
    ("Sentry", "devops/observability.md"),
    ("layer rules", "architecture/layer-rules.md"),
    ("folder structure", "architecture/folder-structure.md"),
    ("dependency injection", "architecture/dependency-injection.md"),
    ("cheat sheet", "cheatsheet.md"),
]
MIN_QUERIES = 25


def test_queries_name_pages_of_the_nav() -> None:
    """Enough queries, each expecting a page the nav has (anything else is a mistake in this list)."""
    assert len(QUERIES) >= MIN_QUERIES
    missing = sorted({page for _, page in QUERIES} - set(nav_pages()))
    assert not missing, f"expected pages not in the nav: {missing}"


def test_search_finds_each_pattern_in_the_first_three_results(
    browser: Browser, site_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Type each query into the search box; the defining page must be among the first three results."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    try:
        page.goto(site_url, wait_until="networkidle")  # the search index is loaded and indexed
        ranks: dict[str, int | None] = {}
        misses: list[str] = []
        for query, expected in QUERIES:
            shown = search(page, site_url, query).pages
            wanted = page_url_path(expected)
            rank = shown.index(wanted) + 1 if wanted in shown else None
            ranks[query] = rank
            if rank is None or rank > 3:
                misses.append(f"{query!r}: expected {expected} in the first 3, got {shown[:5]}")
    finally:
        context.close()
    hit_at_1 = sum(rank == 1 for rank in ranks.values()) / len(ranks)
    hit_at_3 = sum(rank is not None and rank <= 3 for rank in ranks.values()) / len(ranks)
    with capsys.disabled():
        print(f"\nsearch: {len(ranks)} queries, hit@1 {hit_at_1:.0%}, hit@3 {hit_at_3:.0%}")
    assert not misses, "search misses:\n" + "\n".join(misses)
