"""Navigation drawn from the user's roles (the same predicates that guard the pages)."""
from .models import Role
from .permissions import READER_ROLES, scope_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    scope = scope_for(user)
    items = [("home", "首页")]
    if scope.has_any(READER_ROLES):
        items += [("orgs:tree", "组织架构"), ("orgs:member_list", "党员名册")]
    if scope.has_any({Role.ADMIN}):
        items += [("orgs:user_list", "账号管理")]
    return {"nav": items}
