"""(being written)"""
from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404

campaign_list = _todo
campaign_create = _todo
campaign_edit = _todo
