"""Media storage: files of a tenant (reward images, receipts, BR documents) by sha256.

``store`` keeps bytes content-addressed under ``<media_dir>/<tenant id>/<sha256>`` (an
S3-compatible store would implement the same :class:`~loyalchat.media.store.MediaStore`
protocol in production); ``images`` turns an upload into a checked, web-sized picture;
``responses`` serves stored bytes over HTTP with the right type and caching headers.
"""
