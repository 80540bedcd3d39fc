from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.idempotency.tables import IdempotentRequest

APP_CONFIG = AppConfig(
    app_name="idempotency",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[IdempotentRequest],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
