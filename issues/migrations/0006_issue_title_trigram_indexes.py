"""PostgreSQL only: trigram indexes for the issue list's free-text search.

The search is `icontains` on the title's two parts and the culprit, which Django writes as
`UPPER(column::text) LIKE UPPER('%text%')`: no B-tree helps, so each search read every issue of the table (400 ms at
100,000 issues, bench/RESULTS.md). A GIN index with pg_trgm's operator class on exactly that expression answers it
from the index (6 ms). pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database's owner may
create it. Where that is refused, the search stays a scan and the migration says so instead of failing.
SQLite and MariaDB: nothing (their scan of 100,000 titles takes 40-60 ms).
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

INDEXES = {
    "issue_title_type_trgm": "calculated_type",
    "issue_title_value_trgm": "calculated_value",
    "issue_culprit_trgm": "culprit",
}


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        logger.warning("pg_trgm could not be created (%s): the issue search reads every title without it", error)
        return
    with connection.cursor() as cursor:
        for name, column in INDEXES.items():
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "issues_issue" USING gin (UPPER("{column}"::text) gin_trgm_ops)'
            )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("issues", "0005_issue_first_and_last_release")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
