"""A read on a hot path without the ORM compiling its SQL on every call.

Turning a queryset into SQL (the joins of select_related, annotations, the columns of
every model) costs several times what running it costs for a lookup of one row on
an index: about 1 ms of CPU for the trace page's lot with its product, producer, recall
and log counts, against 0.1 ms to run it. `PreparedQuery` compiles the queryset once per
database connection (and per number of arguments), keeping its SQL, the positions of the
arguments among its parameters and how its columns become model instances; each call
then only binds the new values, runs the SQL and builds the instances with Django's own
converters and populators. The rows are the ones `list(queryset)` gives: same SQL, same
instances (select_related objects and annotations set), one query each call.

Only for querysets whose SQL does not depend on the values (filters, select_related,
annotations, ordering, slicing): the values are bound in place of stand-ins given to
`build` when it compiles, and a value the ORM would treat specially (None in an exact
filter, a value out of the column's range) must not be passed — the caller checks
that, as it would validate any lookup value.
"""

import weakref

from django.db import connections
from django.db.models.query import get_related_populators


class _Compiled:
    def __init__(self, queryset, stand_ins):
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.params = list(params)
        self.positions = []
        for stand_in in stand_ins:
            found = [i for i, p in enumerate(self.params) if p == stand_in]
            if len(found) != 1:
                raise ValueError(f"a stand-in appears {len(found)} times in {sql!r}")
            self.positions.append(found[0])
        select, klass_info = compiler.select, compiler.klass_info
        fields = [s[0] for s in select[0 : compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())
        self.connection = compiler.connection
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [f[0].target.attname for f in select[start:end]]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        self.annotations = list(compiler.annotation_col_map.items())
        self.db = queryset.db


def id_stand_in(i: int) -> int:
    """The stand-in of argument i for a lookup by primary key: inside every id column's
    range, and no other parameter of a query is that large a number."""
    return 2_000_000_000 + i


class PreparedQuery:
    """`build(*stand_ins)` returns the queryset; calling the prepared query with values
    returns the list of instances of that queryset with the values in their place.

    `stand_in(i)` gives the stand-in value of argument i (default: a string for
    text lookups; pass e.g. `lambda i: -1000 - i` for integer ones); stand-ins must not
    equal any other parameter of the query."""

    def __init__(self, build, *, stand_in=None, using="default"):
        self.build = build
        self.stand_in = stand_in or (lambda i: f"\x00prepared-{i}\x00")
        self.using = using
        self._compiled = weakref.WeakKeyDictionary()  # {connection: {arity: _Compiled}}

    def _compile(self, connection, arity) -> _Compiled:
        by_arity = self._compiled.setdefault(connection, {})
        compiled = by_arity.get(arity)
        if compiled is None:
            stand_ins = [self.stand_in(i) for i in range(arity)]
            compiled = by_arity[arity] = _Compiled(
                self.build(*stand_ins).using(self.using), stand_ins
            )
        return compiled

    def __call__(self, *values) -> list:
        connection = connections[self.using]
        compiled = self._compile(connection, len(values))
        params = list(compiled.params)
        for position, value in zip(compiled.positions, values, strict=True):
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        objects = []
        converters, db = compiled.converters, compiled.db
        model, model_slice, init_list = compiled.model, compiled.model_slice, compiled.init_list
        for row in rows:
            if converters:
                row = list(row)
                for pos, (convs, expression) in converters:
                    value = row[pos]
                    for converter in convs:
                        value = converter(value, expression, compiled.connection)
                    row[pos] = value
            obj = model.from_db(db, init_list, row[model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, pos in compiled.annotations:
                setattr(obj, name, row[pos])
            objects.append(obj)
        return objects


def as_prefetched(instance, name: str, objects: list) -> None:
    """`objects` as prefetching the relation `name` of `instance` leaves them: a read
    queryset in its prefetch cache (the reverse foreign key of each set to `instance`, as
    Django sets it), so that reading the relation asks the database nothing."""
    related = getattr(instance, name)
    queryset = related.get_queryset()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    field = getattr(related, "field", None)
    if field is not None:
        for obj in objects:
            field.set_cached_value(obj, instance)
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset
