from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.receipts.tables import Receipt, ReceiptClaim, ReceiptSettings

APP_CONFIG = AppConfig(
    app_name="receipts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Receipt, ReceiptClaim, ReceiptSettings],
    migration_dependencies=[
        "loyalchat.tenants.piccolo_app",
        "loyalchat.members.piccolo_app",
        "loyalchat.conversations.piccolo_app",
    ],
    commands=[],
)
