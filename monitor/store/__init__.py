"""The store: tables, engines and sessions, migrations, and the audit trail written with them.

Importing any part of the store registers the audit of target changes on every ORM session, so no session
that can write an `Indicator` (importer, portal, script) skips it, and the models need not know the audit.
"""

from sqlalchemy import event
from sqlalchemy.orm import Session

from monitor.store import audit

event.listen(Session, "before_flush", audit.on_flush)
