from pathlib import Path

from loyalchat.inbox.tables import InboundEvent
from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="inbox",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[InboundEvent],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
