"""Navigation drawn from the user's roles (the same predicates that guard the pages)."""
from .models import Role
from .permissions import READER_ROLES, SECRETARY_ROLES, scope_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    scope = scope_for(user)
    items = [("home", "首页")]
    if scope.has_any(SECRETARY_ROLES):
        items.append(("reviews:queue", "审核"))
    if scope.has_any(READER_ROLES):
        items += [("commitments:list", "承诺管理"), ("orgs:tree", "组织架构"), ("orgs:member_list", "党员名册")]
    if hasattr(user, "member"):
        items.append(("commitments:my_pledge", "我的承诺"))
    if scope.has_any({Role.ADMIN}):
        items += [("orgs:user_list", "账号管理"), ("commitments:campaign_list", "活动年度")]
    return {"nav": items}
