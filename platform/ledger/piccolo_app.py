from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.ledger.tables import LedgerEntry, LotDraw, PointLot, StoredValueEntry

APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[LedgerEntry, PointLot, LotDraw, StoredValueEntry],
    migration_dependencies=["loyalchat.tenants.piccolo_app", "loyalchat.members.piccolo_app"],
    commands=[],
)
