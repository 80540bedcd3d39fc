from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.inbox.tables import InboundEvent

APP_CONFIG = AppConfig(
    app_name="inbox",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[InboundEvent],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
