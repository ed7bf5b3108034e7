from django.utils.functional import SimpleLazyObject

from .selectors import organizations_for_user


def organization(request):
    user = getattr(request, "user", None)
    return {
        "current_organization": getattr(request, "organization", None),
        # Lazy: only pages that show the switcher run the query.
        "user_organizations": SimpleLazyObject(
            lambda: list(organizations_for_user(user)) if user is not None and user.is_authenticated else []
        ),
    }
