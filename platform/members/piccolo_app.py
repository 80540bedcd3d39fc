from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.members.tables import Member, MemberCounter, MemberIdentity

APP_CONFIG = AppConfig(
    app_name="members",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Member, MemberIdentity, MemberCounter],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
