"""Helpers every app's views share: pagination that does not count a province's rows on every page
view, and calling a service so that its Chinese errors land on the form."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from .errors import Conflict

# The home page's to-do counts stop counting here ("999+"): the list behind each link counts in
# full, but a badge over a province's subtree need not read half a million rows on every visit.
TODO_COUNT_CAP = 999


def capped_count(queryset: QuerySet, cap: int | None = None) -> int:
    """len(queryset), but at most cap + 1 (TODO_COUNT_CAP by default): COUNT(*) over a LIMITed
    subquery, which stops reading rows there."""
    return queryset.order_by()[:(TODO_COUNT_CAP if cap is None else cap) + 1].count()


def count_label(n: int) -> str:
    """A capped count as the home page shows it: 12, or 999+."""
    return f"{TODO_COUNT_CAP}+" if n > TODO_COUNT_CAP else str(n)


class CappedPaginator(Paginator):
    """Counts at most LIST_COUNT_CAP rows: past that a list says "共 20000+ 条" and offers that many
    rows' pages (narrow it with the filters), instead of counting a province's million rows on
    every page view (docs/PERFORMANCE.md)."""

    capped = False

    @cached_property
    def count(self) -> int:
        cap = settings.LIST_COUNT_CAP
        if not cap or not isinstance(self.object_list, QuerySet):
            return super().count
        n = capped_count(self.object_list, cap)
        self.capped = n > cap
        return min(n, cap)


class CountedPaginator(Paginator):
    """A paginator told the list's length (already counted, e.g. by a GROUP BY) instead of counting."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


def paginate(request, queryset, per_page: int | None = None, *, count: int | None = None):
    """The requested page of a list; out-of-range numbers show the last page. `count`: the list's
    length when the caller knows it already."""
    per_page = per_page or settings.PAGE_SIZE
    paginator = (CappedPaginator(queryset, per_page) if count is None
                 else CountedPaginator(queryset, per_page, count=count))
    return paginator.get_page(request.GET.get("page"))


def attach_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def run_service(form, call) -> bool:
    """Call a service; show its Chinese errors on the form. True when it succeeded."""
    try:
        call()
    except Conflict as exc:
        form.add_error(None, exc.message)
        return False
    except ValidationError as exc:
        attach_errors(form, exc)
        return False
    return True


def message_errors(request, exc) -> None:
    """Show a service's error above the page a POST redirects to, when it has no form to sit on.
    With a form, run_service (or attach_errors) puts the errors next to their fields instead:
    those are the two ways an error reaches the page."""
    messages.error(request, exc.message if isinstance(exc, Conflict) else "；".join(exc.messages))
