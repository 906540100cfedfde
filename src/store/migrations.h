// Versioned schema migrations, compiled into the binary.
//
// Versions are 1..latest_schema_version(); each applied one is recorded in
// schema_migrations(version, applied_at). Migrations only ever get appended: a released step
// is never edited, a change is a new step.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "base/status.h"
#include "store/db.h"

namespace store {

// The version the compiled-in steps bring a database to.
int latest_schema_version();

// Applies every pending step, each in its own IMMEDIATE transaction together with its
// schema_migrations row and the header's user_version, so a crash leaves the database at some
// whole version. Idempotent. A database whose user_version is already the latest is taken as
// up to date without reading its schema (a cold start's check; a database migrated before
// user_version was kept gets it on its next migrate).
// Fails with FailedPrecondition ("schema_too_new") if the database is newer than this binary.
// `db` must be read-write and outside a transaction; `clock` stamps applied_at.
base::Status migrate(Db& db, const base::Clock& clock = base::SystemClock::instance());

// The highest applied version, 0 for a fresh database.
base::Result<int> schema_version(Db& db);

}  // namespace store
