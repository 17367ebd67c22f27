#!/bin/sh
# postgres-ready.sh URL: exits 0 when a PostgreSQL server answers at URL (host and port only).
hostport=$(echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^/:]+)(:([0-9]+))?.*#\2 \4#')
set -- $hostport
host=$1; port=${2:-5432}
if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port" -t 3
else
    .venv/bin/python -c "import socket,sys; socket.create_connection(('$host', $port), 3)" 2>/dev/null
fi
