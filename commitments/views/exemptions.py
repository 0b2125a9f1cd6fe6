"""(being written)"""
from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404

exemption_create = _todo
exemption_made_up = _todo
exemption_revoke = _todo
