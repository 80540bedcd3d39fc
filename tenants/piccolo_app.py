from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.tenants.tables import (
    ApiKey,
    AuditLog,
    PlatformPlugin,
    StaffInvitation,
    StaffRole,
    StaffUser,
    Tenant,
    TenantPlugin,
)

CURRENT_DIRECTORY = Path(__file__).parent

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(CURRENT_DIRECTORY / "piccolo_migrations"),
    table_classes=[
        Tenant,
        StaffUser,
        StaffRole,
        ApiKey,
        TenantPlugin,
        PlatformPlugin,
        AuditLog,
        StaffInvitation,
    ],
    migration_dependencies=[],
    commands=[],
)
