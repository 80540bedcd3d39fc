from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.billing.tables import Payment, PaymentEvent, Plan, Subscription, UsageCounter

APP_CONFIG = AppConfig(
    app_name="billing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Plan, Subscription, Payment, PaymentEvent, UsageCounter],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
