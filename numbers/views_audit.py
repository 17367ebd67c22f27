from django.http import HttpResponse

from numbers.access import dashboard_view


@dashboard_view()
def audit_log(request):  # replaced by the audit log page
    return HttpResponse("Audit log: coming in this change.")
