"""Prisma Schema Language front end: models/views → entities, with exact positions.

The schema is parsed by `psl`; each model and view block becomes an entity with its fields,
indexes and relations. Multi-file schemas need nothing special: each `.prisma` file yields its own
entities, and the tenancy map joins them.
"""

from __future__ import annotations

import re

from tenantlint.config import Config
from tenantlint.facts import Entity, FieldFact, FileFacts, IndexFact, Loc, ParseError, RelationRef
from tenantlint.frontends.prisma.psl import (
    Attr,
    Block,
    Call,
    Str,
    Tok,
    Value,
    parse_schema,
    split_lines,
)

GENERATED_UNIQUE = frozenset({"uuid", "cuid", "ulid", "nanoid", "autoincrement"})
_GEN_SQL = re.compile(
    r"gen_random_uuid|gen_random_bytes|uuid_generate_v[1-7]|uuidv[47]|nextval", re.IGNORECASE
)


class PrismaFrontEnd:
    name = "prisma"

    def parse(self, path: str, text: str, config: Config) -> FileFacts:
        blocks, comments, errors = parse_schema(text)
        lines = split_lines(text)
        entities = [_entity(path, lines, b) for b in blocks if b.kind in ("model", "view")]
        provider = next(
            (
                v.value
                for b in blocks
                if b.kind == "datasource"
                if isinstance(v := b.assignments.get("provider"), Str)
            ),
            None,
        )
        return FileFacts(
            path=path,
            frontend=self.name,
            comments=tuple(comments),
            parse_errors=tuple(
                ParseError(loc=_loc(path, lines, t, t), message=m) for t, m in errors[:1]
            ),
            entities=tuple(entities),
            datasource_provider=provider,
        )


def _loc(path: str, lines: list[str], start: Tok, end: Tok) -> Loc:
    if start.line == end.line and start.line <= len(lines):
        snippet = lines[start.line - 1][start.col - 1 : end.end_col - 1]
    else:
        snippet = start.text
    return Loc.model_construct(  # hot path: values are built here, validation adds nothing
        path=path,
        line=start.line,
        column=start.col,
        end_line=end.line,
        end_column=end.end_col,
        snippet=" ".join(snippet.split()),
    )


def _names(value: Value | None) -> tuple[str, ...]:
    """Field names of a `[a, b(sort: Desc)]` list."""
    items = value if isinstance(value, list) else ([value] if value is not None else [])
    return tuple(v if isinstance(v, str) else v.name for v in items if isinstance(v, (str, Call)))


def _str_arg(attr: Attr | None, key: str = "name") -> str | None:
    if attr is None:
        return None
    value = attr.args[0] if attr.args else attr.kwargs.get(key)
    return value.value if isinstance(value, Str) else None


def _generated_unique(default: Attr | None) -> bool:
    if default is None or not default.args:
        return False
    value = default.args[0]
    if not isinstance(value, Call):
        return False
    if value.name in GENERATED_UNIQUE:
        return True
    sql = value.args[0] if value.args else None
    return value.name == "dbgenerated" and isinstance(sql, Str) and bool(_GEN_SQL.search(sql.value))


def _entity(path: str, lines: list[str], block: Block) -> Entity:
    block_attrs = {a.name: a for a in block.attrs}
    fields: list[FieldFact] = []
    indexes: list[IndexFact] = []
    for f in block.fields:
        attrs = {a.name: a for a in f.attrs}
        loc = _loc(path, lines, f.name, f.end)
        relation = None
        if "relation" in attrs:
            rel = attrs["relation"]
            relation = RelationRef(
                target=f.type,
                fields=_names(rel.kwargs.get("fields")),
                references=_names(rel.kwargs.get("references")),
            )
        fields.append(
            FieldFact(
                name=f.name.text,
                column=_str_arg(attrs.get("map")) or f.name.text,
                type=f.type,
                optional=f.optional,
                is_list=f.is_list,
                is_id="id" in attrs,
                unique="unique" in attrs,
                generated_unique_default=_generated_unique(attrs.get("default")),
                relation=relation,
                loc=loc,
            )
        )
        for kind in ("id", "unique"):
            if kind in attrs:
                a = attrs[kind]
                indexes.append(
                    IndexFact(
                        name=_str_arg(a, "map"),
                        fields=(f.name.text,),
                        unique=True,
                        primary=kind == "id",
                        loc=_loc(path, lines, f.name, a.end),
                    )
                )
    for a in block.attrs:
        if a.name in ("id", "unique", "index"):
            indexes.append(
                IndexFact(
                    name=_str_arg_kw(a, "map") or _str_arg_kw(a, "name"),
                    fields=_names(a.args[0] if a.args else a.kwargs.get("fields")),
                    unique=a.name != "index",
                    primary=a.name == "id",
                    loc=_loc(path, lines, a.start, a.end),
                )
            )
    return Entity(
        name=block.name,
        table=_str_arg(block_attrs.get("map")) or block.name,
        schema_name=_str_arg(block_attrs.get("schema")),
        source="prisma",
        kind="view" if block.kind == "view" else "model",
        unmanaged="ignore" in block_attrs,
        fields=tuple(fields),
        indexes=tuple(indexes),
        loc=_loc(path, lines, block.start, block.name_tok),
    )


def _str_arg_kw(attr: Attr, key: str) -> str | None:
    value = attr.kwargs.get(key)
    return value.value if isinstance(value, Str) else None
