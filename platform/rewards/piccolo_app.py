from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.rewards.tables import Grant, Reward

APP_CONFIG = AppConfig(
    app_name="rewards",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Reward, Grant],
    migration_dependencies=["loyalchat.tenants.piccolo_app", "loyalchat.members.piccolo_app"],
    commands=[],
)
