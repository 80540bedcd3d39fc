from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.qrkit.tables import QrBranch

APP_CONFIG = AppConfig(
    app_name="qrkit",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[QrBranch],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
