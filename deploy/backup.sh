#!/bin/sh
# Back up Service Hub: the database (pg_dump, custom format) and the uploaded images.
# docs/operations.md, "Backups and restore". Run by service-hub-backup.timer, or by hand:
#   DATABASE_URL=postgresql://… UPLOAD_DIR=/var/lib/service-hub/uploads deploy/backup.sh
# Settings (environment): DATABASE_URL, UPLOAD_DIR (required); BACKUP_DIR (default
# /var/lib/service-hub/backups), BACKUP_KEEP_DAYS (default 14).
set -eu

: "${DATABASE_URL:?DATABASE_URL is not set}"
: "${UPLOAD_DIR:?UPLOAD_DIR is not set}"
BACKUP_DIR=${BACKUP_DIR:-/var/lib/service-hub/backups}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
# libpq does not know SQLAlchemy's driver suffix (postgresql+psycopg://).
DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed 's|^postgresql+psycopg://|postgresql://|')

umask 077
mkdir -p "$BACKUP_DIR/uploads"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dump="$BACKUP_DIR/service-hub-$stamp.dump"

# The database first, then the images: an image's file is written before its row is
# committed, so every image the dump names is already on disk when it is copied.
pg_dump --format=custom --no-owner --no-privileges --file="$dump.partial" "$DATABASE_URL"
mv "$dump.partial" "$dump"

# Images are named by their sha256 and never change: copy the new ones only, delete nothing
# (an older dump may still name an image no longer in use).
if [ -d "$UPLOAD_DIR" ]; then
    cp -R -p -n "$UPLOAD_DIR/." "$BACKUP_DIR/uploads/"
fi

# Retention: dumps older than BACKUP_KEEP_DAYS days, never the one just made.
find "$BACKUP_DIR" -maxdepth 1 -name 'service-hub-*.dump' ! -name "service-hub-$stamp.dump" \
    -mtime "+$BACKUP_KEEP_DAYS" -delete
find "$BACKUP_DIR" -maxdepth 1 -name 'service-hub-*.dump.partial' -mtime +1 -delete
echo "backup: $dump ($(wc -c <"$dump") bytes), images in $BACKUP_DIR/uploads"
