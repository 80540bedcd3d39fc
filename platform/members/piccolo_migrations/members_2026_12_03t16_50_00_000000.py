"""Member search keys: typo-tolerant name search over each tenant's distinct texts.

Trigram matching over a million member rows reads a million-row posting list for every
common trigram ("an ", "ng "). Names repeat, so members are grouped by their search text
with every run of digits replaced by one "0" (``member.search_key``, generated): a query
without digits matches and ranks exactly as on ``search_text``, against the tenant's
distinct keys (``member_search_key``, kept by triggers), then members join by key.
PostgreSQL with pg_trgm only: elsewhere search matches ``search_text`` by substring.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-03T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "member.search_key and member_search_key: trigram search over distinct texts"

KEY_TRIGGERS = (
    """
CREATE FUNCTION member_search_key_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        INSERT INTO member_search_key (tenant, key)
        SELECT DISTINCT tenant, search_key FROM new_members ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO member_search_key (tenant, key)
        VALUES (NEW.tenant, NEW.search_key) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE TRIGGER member_search_key_on_insert AFTER INSERT ON member
    REFERENCING NEW TABLE AS new_members
    FOR EACH STATEMENT EXECUTE FUNCTION member_search_key_add()""",
    """
CREATE TRIGGER member_search_key_on_update AFTER UPDATE OF search_text, tenant ON member
    FOR EACH ROW WHEN (OLD.search_key IS DISTINCT FROM NEW.search_key
                       OR OLD.tenant IS DISTINCT FROM NEW.tenant)
    EXECUTE FUNCTION member_search_key_add()""",
)


async def search_keys(engine) -> None:
    installed = await engine.run_ddl("SELECT 1 AS ok FROM pg_extension WHERE extname = 'pg_trgm'")
    if not installed:
        return  # no trigram search at all: search stays on ILIKE
    # The key index leads with the tenant when btree_gin can be had (it ships with
    # PostgreSQL's contrib, like pg_trgm); without it the index is on the key alone.
    btree_gin = await engine.run_ddl(
        "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'btree_gin' "
        "AND (installed_version IS NOT NULL "
        "OR has_database_privilege(current_database(), 'CREATE'))"
    )
    if btree_gin:
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS btree_gin")
    await engine.run_ddl(
        "ALTER TABLE member ADD COLUMN search_key text NOT NULL "
        "GENERATED ALWAYS AS (regexp_replace(search_text, '[0-9]+', '0', 'g')) STORED"
    )
    # Covering: the members of a key are counted and ordered from the index alone.
    await engine.run_ddl(
        "CREATE INDEX member_tenant_search_key_idx ON member (tenant, search_key) "
        "INCLUDE (status, verified, joined_at, member_no, id)"
    )
    # The key leads the primary key, so a walk of a tenant's keys through this btree
    # never looks cheaper to the planner than the trigram index below.
    await engine.run_ddl(
        "CREATE TABLE member_search_key ("
        " tenant integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,"
        " key text NOT NULL, PRIMARY KEY (key, tenant))"
    )
    await engine.run_ddl(
        "INSERT INTO member_search_key (tenant, key) SELECT DISTINCT tenant, search_key FROM member"
    )
    # Without a pending list (fastupdate): new keys are rare, and every search would
    # read the unmerged list of a busy tenant's new keys one by one (600 ms at 1M).
    columns = "tenant, key gin_trgm_ops" if btree_gin else "key gin_trgm_ops"
    await engine.run_ddl(
        "CREATE INDEX member_search_key_trgm_idx ON member_search_key "
        f"USING gin ({columns}) WITH (fastupdate = off)"
    )
    await engine.run_ddl("ANALYZE member_search_key")
    for statement in KEY_TRIGGERS:  # one statement per call (asyncpg prepares each)
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def add_search_keys():
        engine = engine_finder()
        if not isinstance(engine, SQLiteEngine):
            await search_keys(engine)

    manager.add_raw(add_search_keys)
    return manager
