"""The alert pages: the inbox (`/alerts/`: read, filter, mark read; each alert links to the page that
fixes it), an alert with its delivery log, and the settings (`/alerts/settings`: one's subscriptions and
digest time; for Operations the thresholds and the webhooks; "Send a test" per channel). A GET writes
nothing: reading an alert is a POST ("Open" marks it read)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from numbers_app.alerts import engine, manage, subscriptions
from numbers_app.alerts.forms import InboxFilterForm, SubscriptionsForm, ThresholdsForm, WebhookForm
from numbers_app.alerts.text import render as render_text
from numbers_app.audit import log as audit
from numbers_app.audit.log import Action
from numbers_app.models import Alert, InboxItem, Preference, WebhookEndpoint
from numbers_app.roles import denial
from numbers_app.web.access import HtmxHttpRequest, dashboard_view

PAGE_SIZE = 50
MANAGE = "numbers.manage_alerts"


def _me(request: HtmxHttpRequest) -> Any:
    """The signed-in person (dashboard_view made sure there is one)."""
    return request.user


def _items_for(user):
    return InboxItem.objects.filter(user=user).select_related("alert")


@require_GET
@dashboard_view()
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    items = _items_for(request.user)
    if form.is_valid():
        if form.cleaned_data["kind"]:
            items = items.filter(alert__kind=form.cleaned_data["kind"])
        if form.cleaned_data["state"]:
            items = items.filter(alert__state=form.cleaned_data["state"])
        if form.cleaned_data["unread"]:
            items = items.filter(read_at__isnull=True)
    page = Paginator(items.order_by("-updated_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        alert = item.alert
        item.text = render_text(alert.resolution if alert.state == "resolved" and alert.resolution else alert.sentence)
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "alerts/inbox.html",
        {
            "form": form,
            "page": page,
            "query": urlencode(query),
            "unread": _items_for(request.user).filter(read_at__isnull=True).count(),
        },
    )


def _alert_for(request: HtmxHttpRequest, alert_id: int) -> Alert:
    """The alert, if it is in the person's inbox (or they manage alerts: Operations see every one)."""
    alert = get_object_or_404(Alert.objects.select_related("project"), pk=alert_id)
    if alert.project is not None and not alert.project.visible_to(request.user):
        raise Http404("No such alert in your inbox.")  # another project's, as its pages answer
    mine = alert.owner_id == request.user.pk or InboxItem.objects.filter(user=_me(request), alert=alert).exists()
    if not mine and not request.user.has_perm(MANAGE):
        raise Http404("No such alert in your inbox.")
    return alert


@require_GET
@dashboard_view()
def alert_detail(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert_for(request, alert_id)
    deliveries = alert.deliveries.select_related("endpoint", "user").order_by("created_at", "id")
    if not request.user.has_perm(MANAGE):
        deliveries = deliveries.filter(user=_me(request))
    item = InboxItem.objects.filter(user=_me(request), alert=alert).first()
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "sentence": render_text(alert.sentence),
            "resolution": render_text(alert.resolution) if alert.state == "resolved" else "",
            "deliveries": deliveries,
            "item": item,
        },
    )


@require_POST
@dashboard_view()
def open_alert(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    """Open an alert from the inbox: marked read, then its page."""
    alert = _alert_for(request, alert_id)
    InboxItem.objects.filter(user=_me(request), alert=alert, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("alert_detail", alert_id=alert.pk)


@require_POST
@dashboard_view()
def mark_read(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert_for(request, alert_id)
    unread = request.POST.get("unread") == "1"
    InboxItem.objects.filter(user=_me(request), alert=alert).update(read_at=None if unread else timezone.now())
    return redirect(_back(request))


@require_POST
@dashboard_view()
def mark_all_read(request: HtmxHttpRequest) -> HttpResponse:
    done = InboxItem.objects.filter(user=_me(request), read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{done} alert{'s' if done != 1 else ''} marked read.")
    return redirect(_back(request))


def _back(request: HtmxHttpRequest) -> str:
    query = request.POST.get("back", "")
    return reverse("alert_inbox") + (f"?{query}" if query and "//" not in query and "\n" not in query else "")


def _settings_context(request: HtmxHttpRequest, **forms) -> dict:
    user = _me(request)
    choices = subscriptions.effective(user)
    preference = Preference.objects.filter(user=_me(request)).first()
    digest_time = preference.digest_time if preference else None
    context = {
        "subscriptions_form": forms.get("subscriptions_form")
        or SubscriptionsForm(
            choices=choices,
            mail=subscriptions.mail_enabled(),
            initial={"digest_time": digest_time} if digest_time else None,
        ),
        "mail": subscriptions.mail_enabled(),
        "has_email": bool(user.email),
        "can_manage": user.has_perm(MANAGE),
        "role_defaults": subscriptions.defaults(user),
        "labels": subscriptions.LABELS,
    }
    if context["can_manage"]:
        row = engine.thresholds()
        context.update(
            thresholds=row,
            thresholds_form=forms.get("thresholds_form") or ThresholdsForm(instance=row),
            webhook_form=forms.get("webhook_form") or WebhookForm(),
            webhooks=WebhookEndpoint.objects.all(),
        )
    return context


@require_http_methods(["GET", "POST"])
@dashboard_view(audit_action=Action.ALERT_SUBSCRIBE)
def alert_settings(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the page. POST: one's own subscriptions and digest time."""
    if request.method == "POST":
        current = subscriptions.effective(request.user)
        form = SubscriptionsForm(request.POST, choices=current, mail=subscriptions.mail_enabled())
        if form.is_valid():
            changed = manage.save_subscriptions(request.user, form.choices(current), form.cleaned_data["digest_time"])
            messages.success(request, "Your alert choices are saved." if changed else "Nothing changed.")
            return redirect("alert_settings")
        return render(request, "alerts/settings.html", _settings_context(request, subscriptions_form=form), status=400)
    return render(request, "alerts/settings.html", _settings_context(request))


@require_POST
@dashboard_view(MANAGE, audit_action=Action.ALERT_THRESHOLDS)
def set_thresholds(request: HtmxHttpRequest) -> HttpResponse:
    form = ThresholdsForm(request.POST, instance=engine.thresholds())
    if not form.is_valid():
        return render(request, "alerts/settings.html", _settings_context(request, thresholds_form=form), status=400)
    manage.set_thresholds(request.user, {name: form.cleaned_data[name] for name in manage.THRESHOLDS})
    messages.success(request, "Thresholds saved: the worker's next evaluation uses them.")
    return redirect("alert_settings")


@require_POST
@dashboard_view(MANAGE, audit_action=Action.ALERT_WEBHOOK)
def add_webhook(request: HtmxHttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return render(request, "alerts/settings.html", _settings_context(request, webhook_form=form), status=400)
    endpoint = manage.add_webhook(request.user, **form.cleaned_data)
    messages.success(request, f"Webhook {endpoint.name} added. Its signing secret is on this page.")
    return redirect(reverse("alert_settings") + f"#webhook-{endpoint.pk}")


@require_POST
@dashboard_view(MANAGE, audit_action=Action.ALERT_WEBHOOK)
def change_webhook(request: HtmxHttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    what = request.POST.get("do")
    if what == "delete":
        manage.delete_webhook(request.user, endpoint)
        messages.success(request, f"Webhook {endpoint.name} deleted.")
    elif what in ("pause", "resume"):
        manage.set_webhook_active(request.user, endpoint, what == "resume")
        messages.success(request, f"Webhook {endpoint.name} {'resumed' if what == 'resume' else 'paused'}.")
    elif what == "secret":
        manage.new_webhook_secret(request.user, endpoint)
        messages.success(request, f"Webhook {endpoint.name} has a new secret: update your receiver.")
    else:
        messages.error(request, "Unknown change.")
    return redirect("alert_settings")


@require_POST
@dashboard_view(audit_action=Action.ALERT_SUBSCRIBE)
def send_test(request: HtmxHttpRequest) -> HttpResponse:
    """Send a test: to one's inbox, one's e-mail (queued for the worker), or a webhook (Operations)."""
    channel = request.POST.get("channel", "")
    endpoint = None
    if channel == "webhook":
        if not request.user.has_perm(MANAGE):
            message = denial(request.user, MANAGE)
            audit.record(request.user, Action.ALERT_WEBHOOK, outcome=audit.Outcome.DENIED, message=message)
            raise PermissionDenied(message)
        endpoint = WebhookEndpoint.objects.filter(pk=request.POST.get("endpoint") or 0).first()
        if endpoint is None:
            messages.error(request, "That webhook no longer exists.")
            return redirect("alert_settings")
    elif channel == "email" and (not subscriptions.mail_enabled() or not getattr(request.user, "email", "")):
        messages.error(
            request,
            "No e-mail to test: "
            + (
                "mail is not configured (EMAIL_URL)."
                if not subscriptions.mail_enabled()
                else "your account has no e-mail address."
            ),
        )
        return redirect("alert_settings")
    elif channel not in ("inbox", "email"):
        messages.error(request, "Choose a channel to test.")
        return redirect("alert_settings")
    alert = engine.send_test(request.user, channel, endpoint)
    if channel == "inbox":
        messages.success(request, "A test alert is in your inbox.")
    else:
        messages.success(
            request, "The test is queued: the worker sends it within seconds; its delivery log says how it went."
        )
    return redirect("alert_detail", alert_id=alert.pk) if channel != "inbox" else redirect("alert_inbox")
