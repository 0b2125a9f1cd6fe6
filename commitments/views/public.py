"""(being written)"""
from django.contrib.auth.decorators import login_not_required
from django.http import Http404


@login_not_required
def _todo(request, *args, **kwargs):
    raise Http404


noticeboard = org_page = commitment_page = _todo
