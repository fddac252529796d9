"""Python query builders as values (PRECISION 14): a subquery correlated with its outer query is
judged through the outer query; an uncorrelated one is a query of its own."""

from __future__ import annotations

from pathlib import Path

from support import actual_findings, expected_markers, run_check, write_project

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)


class CheckoutLink(Base):
    __tablename__ = "checkout_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
"""

SERVICE = """\
from fastapi import APIRouter, Depends
from sqlalchemy import select

from app.db import get_session
from app.models import CheckoutLink, Product

router = APIRouter()


def links_with_products(session, organization_id):
    has_product = select(Product.id).where(Product.id == CheckoutLink.product_id).exists()
    return session.execute(
        select(CheckoutLink).where(CheckoutLink.organization_id == organization_id, has_product)
    )


def any_product_named(session):
    return session.execute(select(Product.id).where(Product.id == 5).exists())  # expect: TL301


@router.get("/products/any")
def any_product(session=Depends(get_session)):
    return any_product_named(session)
"""


def assert_marked(tmp_path: Path, models: str, service: str, select: str) -> None:
    """The findings of `select` on a models module and a service are exactly the markers."""
    config = 'tenant-fields = ["organization_id"]\ntenant-models = ["Organization"]\n'
    root = write_project(
        tmp_path,
        {"tenantlint.toml": config, "app/models.py": models, "app/service.py": service},
    )
    _, data = run_check(root, "--select", select)
    assert actual_findings(data) == expected_markers(root)


def test_correlated_subquery_is_judged_through_its_outer_query(tmp_path: Path) -> None:
    assert_marked(tmp_path, MODELS, SERVICE, "TL301")


def test_declared_attr_relationship_sets_the_tenant(tmp_path: Path) -> None:
    models = MODELS.replace(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
        "from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship",
    ) + (
        "\n\nclass Checkout(Base):\n"
        '    __tablename__ = "checkouts"\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        '    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)\n'
        "\n    @declared_attr\n"
        '    def organization(cls) -> Mapped["Organization"]:\n'
        '        return relationship("Organization", lazy="raise")\n'
    )
    service = (
        "from app.models import Checkout\n\n\n"
        "def open_checkout(session, link):\n"
        "    session.add(Checkout(organization=link.organization))\n"
        "    session.add(Checkout(id=1))  # expect: TL302\n"
    )
    assert_marked(tmp_path, models, service, "TL302")
