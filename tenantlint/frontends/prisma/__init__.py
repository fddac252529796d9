"""The Prisma schema front end: `.prisma` files → entities, with exact positions."""

from tenantlint.frontends.prisma.psl import PrismaFrontEnd

__all__ = ["PrismaFrontEnd"]
