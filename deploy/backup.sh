#!/bin/bash
# portail-backup: a consistent dump of the portal's PostgreSQL database, run by portail-backup.timer.
#
# pg_dump's custom format (restore with pg_restore, docs/production.md); dumps older than
# $PORTAIL_BACKUP_KEEP_DAYS days (14) are removed. The bucket is backed up by the S3
# provider's versioning or replication, or by rclone (docs/production.md).
set -euo pipefail
directory=${PORTAIL_BACKUP_DIR:-/var/backups/portail}
keep_days=${PORTAIL_BACKUP_KEEP_DAYS:-14}
mkdir -p "$directory"
file="$directory/portail-$(date +%Y%m%d-%H%M%S).dump"
# pg_dump takes the portal's own URL without SQLAlchemy's driver name (postgresql+psycopg:// -> postgresql://).
pg_dump --format=custom --no-owner --file="$file.part" --dbname="${PORTAIL_DATABASE_URL/+psycopg/}"
mv "$file.part" "$file"
find "$directory" -name 'portail-*.dump' -mtime +"$keep_days" -delete
echo "$file"
