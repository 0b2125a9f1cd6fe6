"""Navigation drawn from the user's roles (the same predicates that guard the pages)."""
from django.urls import NoReverseMatch, reverse

from .models import SEPARATED_ROLES, Role
from .permissions import READER_ROLES, SECRETARY_ROLES, TREE_ROLES, scope_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    scope = scope_for(user)
    items = [("home", "首页")]
    if scope.has_any(SECRETARY_ROLES):
        items.append(("reviews:queue", "审核"))
    if scope.has_any(READER_ROLES):
        items += [("commitments:list", "承诺管理"), ("evaluations:list", "评诺"), ("portal:coverage", "覆盖情况")]
    if scope.has_any(TREE_ROLES):
        items.append(("orgs:tree", "组织架构"))
    if scope.has_any(READER_ROLES):
        items.append(("orgs:member_list", "党员名册"))
    if hasattr(user, "member"):
        items += [("commitments:my_pledge", "我的承诺"), ("commitments:branch_progress", "本支部践诺")]
    if scope.has_any({Role.ADMIN}):
        items += [("orgs:user_list", "账号管理"), ("commitments:campaign_list", "活动年度")]
    if scope.has_any({Role.AUDITOR}):
        items.append(("orgs:audit_list", "审计日志"))
    if scope.has_any({Role.SECURITY}):
        items.append(("orgs:account_list", "账号安全"))
    if scope.has_any(SEPARATED_ROLES):
        items.append(("orgs:admin_request_list", "管理员变更审批"))
    return {"nav": items, "nav_active": _active(request.path, items)}


def _active(path: str, items) -> str:
    """The entry whose address is the longest prefix of the page's (/evaluations/commitments/1/ is
    评诺's, not 承诺管理's); 首页 only on itself."""
    best, length = "", 0
    for url_name, _ in items:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        if (path == url or url != "/" and path.startswith(url)) and len(url) > length:
            best, length = url_name, len(url)
    return best
