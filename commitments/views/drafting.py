"""(being written)"""
from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404

commitment_list = _todo
commitment_detail = _todo
commitment_edit = _todo
commitment_submit = _todo
version_detail = _todo
commitment_add_reference = _todo
org_commitment_start = _todo
branch_pledges = _todo
pledge_start = _todo
my_pledge = _todo
