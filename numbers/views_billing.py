from django.http import HttpResponse

from numbers.access import dashboard_view


@dashboard_view()
def billing(request):  # replaced by the billing page
    return HttpResponse("Billing: coming in this change.")
