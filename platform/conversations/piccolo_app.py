from pathlib import Path

from piccolo.conf.apps import AppConfig

from loyalchat.conversations.tables import (
    AutoReply,
    ChannelAccount,
    Conversation,
    InboundMessage,
    OutboundMessage,
)

APP_CONFIG = AppConfig(
    app_name="conversations",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Conversation, InboundMessage, OutboundMessage, AutoReply, ChannelAccount],
    migration_dependencies=["loyalchat.tenants.piccolo_app", "loyalchat.members.piccolo_app"],
    commands=[],
)
