"""Reads of catalogue imports, always scoped to one organization: another organization's id is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from generation.models import CatalogImport


def imports_for(organization) -> QuerySet[CatalogImport]:
    if getattr(organization, "pk", None) is None:
        raise Http404("no organization")
    return CatalogImport.objects.filter(organization_id=organization.pk).order_by("-created_at", "-id")


def get_import(organization, pk) -> CatalogImport:
    try:
        return imports_for(organization).select_related("batch").get(pk=int(pk))
    except (CatalogImport.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise Http404("import not found") from exc
