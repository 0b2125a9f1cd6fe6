"""The home page: my organisations, my roles, my pledges and everything waiting for me."""
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from commitments import selectors as commitment_selectors
from orgs import selectors as org_selectors
from orgs.permissions import TREE_ROLES, scope_for

from ..duties import todos_for


@require_GET
def home(request):
    """My organisations, my roles and the to-do area."""
    data = org_selectors.home_for(request.user)
    campaign = commitment_selectors.current_campaign()
    my_pledges = commitment_selectors.my_pledges(request.user, campaign, members=data["members"])
    return render(request, "portal/home.html", {
        **data,
        # The person's duties, live, with their deadlines (the daily reminder mails say the same
        # things ahead of the deadlines; they are not repeated here).
        "todos": (todos_for(request.user, campaign, members=data["members"], pledges=my_pledges)
                  + org_selectors.todo_for(request.user)),
        "my_pledges": my_pledges,
        "campaign": campaign,
        "today": timezone.localdate(),
        "is_reader": scope_for(request.user).has_any(TREE_ROLES),
    })

