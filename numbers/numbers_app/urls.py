from django.urls import path, register_converter

from numbers_app import (
    views,
    views_account,
    views_addresses,
    views_audit,
    views_billing,
    views_purchase,
    views_scheduled,
    views_sync,
)
from numbers_app.converters import StaffifyIdConverter

register_converter(StaffifyIdConverter, "staffify_id")

urlpatterns = [
    path("", views.number_list, name="number_list"),
    path("numbers/<staffify_id:number_id>/", views.number_detail, name="number_detail"),
    path("numbers/<staffify_id:number_id>/agent", views.assign_agent, name="assign_agent"),
    path("numbers/<staffify_id:number_id>/tags", views.save_tags, name="save_tags"),
    path("numbers/<staffify_id:number_id>/tags/edit", views.tags_editor, name="tags_editor"),
    path("numbers/<staffify_id:number_id>/tags/view", views.tags_display, name="tags_display"),
    path("numbers/<staffify_id:number_id>/release", views.release_dialog, name="release_dialog"),
    path("numbers/<staffify_id:number_id>/release/confirm", views.release_number, name="release_number"),
    path("numbers/<staffify_id:number_id>/reclaim", views.reclaim_number, name="reclaim_number"),
    path(
        "numbers/<staffify_id:number_id>/scheduled-release",
        views_scheduled.schedule_release,
        name="schedule_release",
    ),
    path(
        "numbers/<staffify_id:number_id>/scheduled-release/cancel",
        views_scheduled.cancel_scheduled_release,
        name="cancel_scheduled_release",
    ),
    path(
        "scheduled-releases/<int:scheduled_id>/release-now",
        views_scheduled.release_scheduled_now,
        name="release_scheduled_now",
    ),
    path(
        "scheduled-releases/<int:scheduled_id>/dismiss",
        views_scheduled.dismiss_scheduled_release,
        name="dismiss_scheduled_release",
    ),
    path("buy/", views.buy, name="buy"),
    path("buy/confirm", views.buy_confirm, name="buy_confirm"),
    path("buy/purchase", views.buy_number, name="buy_number"),
    path("billing/", views_billing.billing, name="billing"),
    path("billing/purchase-times", views_purchase.purchase_import, name="purchase_import"),
    path("numbers/<staffify_id:number_id>/purchase-time", views_purchase.set_purchase_time, name="set_purchase_time"),
    path("audit/", views_audit.audit_log, name="audit_log"),
    path("sync/", views_sync.sync_now, name="sync_now"),
    path("sync/status", views_sync.sync_status, name="sync_status"),
    path("addresses/", views_addresses.addresses, name="addresses"),
    path("addresses/create", views_addresses.create_address, name="address_create"),
    path("addresses/add", views_addresses.add_address, name="address_add"),
    path("addresses/<staffify_id:address_id>/documents", views_addresses.upload_document, name="address_upload"),
    path("addresses/<staffify_id:address_id>/submit", views_addresses.submit_dialog, name="address_submit_dialog"),
    path("addresses/<staffify_id:address_id>/submit/confirm", views_addresses.submit_address, name="address_submit"),
    path("addresses/<staffify_id:address_id>/check", views_addresses.check_status, name="address_check"),
    path("account/preferences", views_account.preferences, name="preferences"),
]
