"""The ground floor: what every domain stands on and that imports none of them — who acts (`actor`), settings
(`config`), the database and its one-transaction rule (`db`), the platform clock (`clock`), PRC working and
trading days (`calendar`), errors, Merkle trees, documents (HTML → PDF), migrations and archive limits."""
