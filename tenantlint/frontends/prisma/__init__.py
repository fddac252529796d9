"""The Prisma schema front end: `.prisma` files → entities, with exact positions."""

from tenantlint.frontends.prisma.frontend import PrismaFrontEnd

__all__ = ["PrismaFrontEnd"]
