from django.urls import include, path, register_converter

from numbers_app.addresses import views as addresses
from numbers_app.agents import views as agents
from numbers_app.alerts import views as alerts
from numbers_app.audit import views as audit
from numbers_app.billing import views as billing
from numbers_app.bulk import views as bulk
from numbers_app.buying import views as buying
from numbers_app.mirror import views as mirror
from numbers_app.notes import views as notes
from numbers_app.organisation import views as organisation
from numbers_app.owned import views as owned
from numbers_app.people import views as people
from numbers_app.scheduled import views as scheduled
from numbers_app.signin import views as signin
from numbers_app.web import account
from numbers_app.web.converters import StaffifyIdConverter
from numbers_app.web.projects import in_project, legacy

register_converter(StaffifyIdConverter, "staffify_id")

# A project's pages, under /p/<project>/ (numbers_app.web.projects).
project_pages = [
    path("", owned.number_list, name="number_list"),
    path("numbers/<staffify_id:number_id>/", owned.number_detail, name="number_detail"),
    path("numbers/<staffify_id:number_id>/agent", owned.assign_agent, name="assign_agent"),
    path("agent-options", owned.agent_options, name="agent_options"),
    path("numbers/<staffify_id:number_id>/tags", owned.save_tags, name="save_tags"),
    path("numbers/<staffify_id:number_id>/tags/edit", owned.tags_editor, name="tags_editor"),
    path("numbers/<staffify_id:number_id>/tags/view", owned.tags_display, name="tags_display"),
    path("numbers/<staffify_id:number_id>/note", notes.save_note, name="save_note"),
    path("numbers/<staffify_id:number_id>/note/edit", notes.note_editor, name="note_editor"),
    path("numbers/<staffify_id:number_id>/note/view", notes.note_display, name="note_display"),
    path("numbers/<staffify_id:number_id>/release", owned.release_dialog, name="release_dialog"),
    path("numbers/<staffify_id:number_id>/release/confirm", owned.release_number, name="release_number"),
    path("numbers/<staffify_id:number_id>/reclaim", owned.reclaim_number, name="reclaim_number"),
    path(
        "numbers/<staffify_id:number_id>/scheduled-release",
        scheduled.schedule_release,
        name="schedule_release",
    ),
    path(
        "numbers/<staffify_id:number_id>/scheduled-release/cancel",
        scheduled.cancel_scheduled_release,
        name="cancel_scheduled_release",
    ),
    path(
        "scheduled-releases/<int:scheduled_id>/release-now",
        scheduled.release_scheduled_now,
        name="release_scheduled_now",
    ),
    path(
        "scheduled-releases/<int:scheduled_id>/dismiss",
        scheduled.dismiss_scheduled_release,
        name="dismiss_scheduled_release",
    ),
    path("buy/", buying.buy, name="buy"),
    path("buy/confirm", buying.buy_confirm, name="buy_confirm"),
    path("buy/purchase", buying.buy_number, name="buy_number"),
    path("billing/", billing.billing, name="billing"),
    path("billing/costs", billing.costs, name="costs"),
    path("agents/", agents.agents, name="agents"),
    path("balance/refresh", billing.refresh_balance, name="refresh_balance"),
    path("billing/purchase-times", buying.purchase_import, name="purchase_import"),
    path("numbers/<staffify_id:number_id>/purchase-time", buying.set_purchase_time, name="set_purchase_time"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("sync/", mirror.sync_now, name="sync_now"),
    path("sync/status", mirror.sync_status, name="sync_status"),
    path("addresses/", addresses.addresses, name="addresses"),
    path("addresses/create", addresses.create_address, name="address_create"),
    path("addresses/add", addresses.add_address, name="address_add"),
    path("addresses/<staffify_id:address_id>/documents", addresses.upload_document, name="address_upload"),
    path("addresses/<staffify_id:address_id>/submit", addresses.submit_dialog, name="address_submit_dialog"),
    path("addresses/<staffify_id:address_id>/submit/confirm", addresses.submit_address, name="address_submit"),
    path("addresses/<staffify_id:address_id>/check", addresses.check_status, name="address_check"),
    path("bulk/bar", bulk.bulk_bar, name="bulk_bar"),
    path("bulk/preview", bulk.bulk_preview, name="bulk_preview"),
    path("bulk/start", bulk.bulk_start, name="bulk_start"),
    path("bulk/upload", bulk.bulk_upload, name="bulk_upload"),
    path("jobs/", bulk.bulk_jobs, name="bulk_jobs"),
    path("jobs/notice", bulk.bulk_notice, name="bulk_notice"),
    path("jobs/<staffify_id:job_id>/", bulk.bulk_job, name="bulk_job"),
    path("jobs/<staffify_id:job_id>/cancel", bulk.bulk_cancel, name="bulk_cancel"),
    path("jobs/<staffify_id:job_id>/retry", bulk.bulk_retry, name="bulk_retry"),
    path("jobs/<staffify_id:job_id>/results.csv", bulk.bulk_results_csv, name="bulk_results_csv"),
    path("jobs/<staffify_id:job_id>/seen", bulk.bulk_notice_seen, name="bulk_notice_seen"),
]


def _wrapped(patterns, wrap):
    """The same pages with each view wrapped (the names only on the project's, which links use)."""
    return [path(str(p.pattern), wrap(p.callback), name=p.name if wrap is in_project else None) for p in patterns]


urlpatterns = [
    path("account/preferences", account.preferences, name="preferences"),
    path("account/two-factor", signin.two_factor, name="two_factor"),
    path("alerts/", alerts.inbox, name="alert_inbox"),
    path("alerts/read-all", alerts.mark_all_read, name="alert_read_all"),
    path("alerts/settings", alerts.alert_settings, name="alert_settings"),
    path("alerts/settings/thresholds", alerts.set_thresholds, name="alert_thresholds"),
    path("alerts/settings/test", alerts.send_test, name="alert_test"),
    path("alerts/webhooks/add", alerts.add_webhook, name="alert_webhook_add"),
    path("alerts/webhooks/<staffify_id:endpoint_id>", alerts.change_webhook, name="alert_webhook_change"),
    path("alerts/<staffify_id:alert_id>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<staffify_id:alert_id>/open", alerts.open_alert, name="alert_open"),
    path("alerts/<staffify_id:alert_id>/read", alerts.mark_read, name="alert_read"),
    path("people/", people.people, name="people"),
    path("people/invite", people.invite, name="people_invite"),
    path("people/policy", people.policy, name="people_policy"),
    path("people/<int:user_id>/role", people.set_role, name="people_role"),
    path("people/<int:user_id>/deactivate", people.deactivate, name="people_deactivate"),
    path("people/<int:user_id>/reactivate", people.reactivate, name="people_reactivate"),
    path("people/<int:user_id>/second-factor/remove", people.remove_second_factor, name="people_remove_2fa"),
    path("people/invitations/<int:invitation_id>/withdraw", people.withdraw, name="people_withdraw"),
    path("org/billing/", organisation.org_billing, name="org_billing"),
    path("org/search", organisation.org_search, name="org_search"),
    path("p/<slug:project>/", include(_wrapped(project_pages, in_project))),
    # The URLs from before projects keep working: a page redirects to the default project's.
    *_wrapped(project_pages, legacy),
]

# Under /accounts/, ahead of Django's own auth views (dashboard/urls.py): the login page replaces Django's.
signin_urlpatterns = [
    path("login/", signin.login, name="login"),
    path("login/code", signin.second_factor, name="login_second_factor"),
    path("sso/start", signin.sso_start, name="sso_start"),
    path("sso/callback", signin.sso_callback, name="sso_callback"),
    path("invitation/<str:token>", signin.accept_invitation, name="accept_invitation"),
]
admin_login = signin.admin_login
