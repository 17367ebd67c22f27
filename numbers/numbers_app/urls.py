from django.urls import path, register_converter

from numbers_app import (
    views,
    views_account,
    views_addresses,
    views_audit,
    views_billing,
    views_bulk,
    views_purchase,
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
    path("bulk/preview", views_bulk.bulk_preview, name="bulk_preview"),
    path("bulk/start", views_bulk.bulk_start, name="bulk_start"),
    path("bulk/upload", views_bulk.bulk_upload, name="bulk_upload"),
    path("jobs/", views_bulk.bulk_jobs, name="bulk_jobs"),
    path("jobs/notice", views_bulk.bulk_notice, name="bulk_notice"),
    path("jobs/<staffify_id:job_id>/", views_bulk.bulk_job, name="bulk_job"),
    path("jobs/<staffify_id:job_id>/cancel", views_bulk.bulk_cancel, name="bulk_cancel"),
    path("jobs/<staffify_id:job_id>/retry", views_bulk.bulk_retry, name="bulk_retry"),
    path("jobs/<staffify_id:job_id>/results.csv", views_bulk.bulk_results_csv, name="bulk_results_csv"),
    path("jobs/<staffify_id:job_id>/seen", views_bulk.bulk_notice_seen, name="bulk_notice_seen"),
    path("account/preferences", views_account.preferences, name="preferences"),
]
