"""The ground floor: what every domain stands on and that imports none of them — who acts, the database and
its one-transaction rule, settings, the platform clock, PRC working and trading days, errors, declarative
workflows, Merkle trees, documents, migrations, archive limits and the request's session."""
