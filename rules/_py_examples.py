"""Building blocks of the rules' Python example projects: a FastAPI + SQLAlchemy app and a Django
app, each with a `Tenant` root, a tenant-scoped `Project` and the resolver `get_current_tenant`."""

from __future__ import annotations

from tenantlint.rule import Files

CONFIG = 'tenant-resolvers = ["get_current_tenant"]\nguards = ["register_tenant_guard"]\n'

SQLALCHEMY_MODELS = """\
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
"""

SQLALCHEMY_DB = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://localhost/app")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    with SessionLocal() as session:
        yield session
"""

SQLALCHEMY_DEPS = """\
from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Tenant


def get_current_tenant(request: Request, db: Session = Depends(get_db)) -> Tenant:
    tenant_id = request.state.user.tenant_id
    tenant = db.get(Tenant, tenant_id)
    if tenant is None:
        raise HTTPException(status_code=403)
    return tenant
"""

DEPS = "tenant: Tenant = Depends(get_current_tenant), db: Session = Depends(get_db)"  # an endpoint's parameters

# The head of an endpoint module (`endpoint`).
SQLALCHEMY_API = """\
from fastapi import APIRouter, Depends, Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import get_db
from app.deps import get_current_tenant
from app.models import Project, Tenant

router = APIRouter()


"""

DJANGO_MODELS = """\
from django.db import models


class Tenant(models.Model):
    name = models.CharField(max_length=100)


class Project(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    slug = models.SlugField()

    class Meta:
        unique_together = [("tenant", "slug")]
"""

DJANGO_TENANCY = """\
from django.http import Http404

from projects.models import Tenant


def get_current_tenant(request):
    tenant = request.session["tenant"]
    try:
        return Tenant.objects.get(slug=tenant, members=request.user)
    except Tenant.DoesNotExist:
        raise Http404 from None
"""

# The head of a views module (`view`).
DJANGO_VIEWS = """\
from django.db import connection
from django.http import JsonResponse

from core.tenancy import get_current_tenant
from projects.models import Project


"""


def sqlalchemy(files: Files, models: str = SQLALCHEMY_MODELS) -> Files:
    """The SQLAlchemy app (config, `models`, session, resolver) plus `files`."""
    base = {"tenantlint.toml": CONFIG, "app/models.py": models, "app/db.py": SQLALCHEMY_DB}
    return {**base, "app/deps.py": SQLALCHEMY_DEPS, **files}


def django(files: Files, models: str = DJANGO_MODELS) -> Files:
    """The Django app (config, `models`, resolver) plus `files`."""
    base = {"tenantlint.toml": CONFIG, "projects/models.py": models}
    return {**base, "core/tenancy.py": DJANGO_TENANCY, **files}


def endpoint(body: str) -> str:
    """A FastAPI module holding `body`."""
    return SQLALCHEMY_API + body


def view(body: str) -> str:
    """A Django views module holding `body`."""
    return DJANGO_VIEWS + body
