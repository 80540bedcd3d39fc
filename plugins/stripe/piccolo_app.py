from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.plugins.stripe.tables import StripeCheckout, StripeCustomer

APP_CONFIG = AppConfig(
    app_name="stripe",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[StripeCustomer, StripeCheckout],
    migration_dependencies=["loyalchat.tenants.piccolo_app"],
    commands=[],
)
