from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.onboarding.tables import Application, ApplicationDocument, ApplicationEvent

APP_CONFIG = AppConfig(
    app_name="onboarding",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Application, ApplicationDocument, ApplicationEvent],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
