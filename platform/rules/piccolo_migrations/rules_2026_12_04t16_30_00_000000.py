"""earning_rule.name in three languages: ``{"zh-Hant": ..., "zh-Hans": ..., "en": ...}``.

A name typed before holds one language: with Chinese characters it becomes the Traditional
Chinese name (and the Simplified one is made from it with OpenCC; a name in Simplified
characters only is the Simplified one, and the Traditional is made), otherwise the English
name. The same statements run on SQLite (3.35 or later) and PostgreSQL: the old column is
renamed, a JSON column takes its name, the texts move over, the old column is dropped. Raw
SQL only, like the member search keys: Piccolo's ``alter_column`` cannot change a
column's type on SQLite.
"""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import create_table_class

ID = "2026-12-04T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "earning_rule.name: a text in zh-Hant, zh-Hans and en"
OLD = "name_before_languages"


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def three_languages(name: str) -> dict[str, str]:
    """A name typed in one language, as the three-language text it becomes."""
    from loyalchat.languages import to_simplified, to_traditional

    name = (name or "").strip()
    if not _has_cjk(name):
        return {"zh-Hant": "", "zh-Hans": "", "en": name}
    if to_simplified(name) == name and to_traditional(name) != name:  # typed in Simplified
        return {"zh-Hant": to_traditional(name), "zh-Hans": name, "en": ""}
    return {"zh-Hant": name, "zh-Hans": to_simplified(name), "en": ""}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rules", description=DESCRIPTION)

    async def names_in_three_languages():
        engine = engine_finder()
        rules = create_table_class("EarningRule", class_kwargs={"tablename": "earning_rule"})
        await engine.run_ddl(f'ALTER TABLE earning_rule RENAME COLUMN "name" TO "{OLD}"')
        await engine.run_ddl(
            """ALTER TABLE earning_rule ADD COLUMN "name" JSON NOT NULL DEFAULT '{}'"""
        )
        rows = await rules.raw(f'SELECT id, "{OLD}" AS old FROM earning_rule')  # noqa: S608
        for row in rows:
            texts = json.dumps(three_languages(row["old"]), ensure_ascii=False)
            await rules.raw('UPDATE earning_rule SET "name" = {} WHERE id = {}', texts, row["id"])
        await engine.run_ddl(f'ALTER TABLE earning_rule DROP COLUMN "{OLD}"')

    manager.add_raw(names_in_three_languages)
    return manager
