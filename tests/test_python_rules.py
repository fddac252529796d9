"""Python example projects run through the whole engine: the exact findings equal the markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import actual_findings, expected_markers, run_check, write_project

CONFIG = """\
tenant-fields = ["org_id"]
tenant-models = ["Organization"]
tenant-resolvers = ["current_org"]
tenancy-flags = ["MULTI_ORG"]
"""

MODELS = """\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Organization(db.Model):
    __tablename__ = "organizations"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String, unique=True, nullable=False)


class Query(db.Model):
    __tablename__ = "queries"
    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.Integer, db.ForeignKey("organizations.id"), nullable=False, index=True)
    org = db.relationship(Organization)
    name = db.Column(db.String, nullable=False)

    @classmethod
    def get_by_id_and_org(cls, query_id, org):
        return cls.query.filter(cls.id == query_id, cls.org == org).one()
"""

FLASK_NO_RLS = {
    "tenantlint.toml": CONFIG,
    "app/models.py": MODELS,
    "app/handlers.py": """\
import os

from flask import Blueprint, request

from app.authentication import current_org
from app.models import Query, db

bp = Blueprint("queries", __name__)


@bp.route("/api/queries/<int:query_id>")
def show(query_id):
    return Query.get_by_id_and_org(query_id, current_org).name


@bp.route("/api/queries/count")
def count():  # expect: TL401
    return {"n": db.session.execute("SELECT count(*) FROM queries").scalar()}  # expect: TL304


@bp.route("/api/queries/mine")
def mine():
    rows = db.session.execute("SELECT id FROM queries WHERE org_id = :o", {"o": current_org.id})
    return {"ids": [r[0] for r in rows]}


@bp.route("/api/queries", methods=["POST"])
def create():
    q = Query(name=request.json["name"], org=current_org)
    db.session.add(q)
    other = Query(name="copy")  # expect: TL302
    db.session.add(other)
    by_org = Query.query.filter(Query.org_id == request.args["org_id"]).all()  # expect: TL402
    return {"n": len(by_org)}


def multi_org() -> bool:
    return bool(os.environ.get("MULTI_ORG"))  # expect: TL501
""",
}


@pytest.mark.parametrize("files", [FLASK_NO_RLS], ids=["flask-sqlalchemy-no-rls"])
def test_python_project_findings(files: dict[str, str], tmp_path: Path) -> None:
    root = write_project(tmp_path, files)
    expected = expected_markers(root)
    code, data = run_check(root)
    assert actual_findings(data) == expected
    assert code == 1


DJANGO_MODELS = """\
from django.db import models


class Organisation(models.Model):
    name = models.CharField(max_length=100)


class Project(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
"""

PERMISSIONS = """\
from rest_framework.permissions import BasePermission


class IsProjectAdmin(BasePermission):
    def has_permission(self, request, view):
        return request.user.is_project_admin(view.kwargs["project_pk"])


class IsReadOnly(BasePermission):
    def has_permission(self, request, view):
        return request.method in ("GET", "HEAD")
"""

VIEWS = """\
from rest_framework import viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from projects.models import Project
from projects.permissions import IsProjectAdmin, IsReadOnly


@api_view(["GET"])
@permission_classes([IsProjectAdmin])
def project_name(request, project_pk):
    return Response({"name": Project.objects.get(pk=project_pk).name})


@api_view(["GET"])
@permission_classes([IsReadOnly])
def project_title(request, project_pk):  # expect: TL401
    return Response({"name": Project.objects.get(pk=project_pk).name})  # expect: TL301


class ProjectViewSet(viewsets.ViewSet):
    permission_classes = [IsProjectAdmin]

    def retrieve(self, request, *args, **kwargs):
        # the permission class read and checked this very URL parameter
        return Response({"name": Project.objects.get(pk=self.kwargs["project_pk"]).name})

    def list(self, request, *args, **kwargs):
        # a URL parameter nothing checked
        return Response({"name": Project.objects.get(pk=self.kwargs["copy_of"]).name})  # expect: TL301
"""


def test_a_drf_permission_class_deciding_by_the_user_establishes_the_tenant(
    tmp_path: Path,
) -> None:
    """A permission class whose `has_permission` asks about the request's user is an
    authorisation check (PRECISION 12); one that looks only at the method is not."""
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": 'tenant-fields = ["organisation"]\ntenant-models = ["Organisation"]\n',
            "projects/models.py": DJANGO_MODELS,
            "projects/permissions.py": PERMISSIONS,
            "projects/views.py": VIEWS,
        },
    )
    _, data = run_check(root, "--select", "TL401,TL301")
    assert actual_findings(data) == expected_markers(root)
