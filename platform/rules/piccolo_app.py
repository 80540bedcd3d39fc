from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.rules.tables import EarningRule, PointsPolicy

APP_CONFIG = AppConfig(
    app_name="rules",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[EarningRule, PointsPolicy],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
