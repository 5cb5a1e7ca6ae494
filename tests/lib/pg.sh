# Throwaway PostgreSQL clusters for unit tests, end-to-end scenarios and
# the demo.  Source it (". tests/lib/pg.sh"), then:
#   pg_start DIR    initdb + start a cluster whose only socket is in DIR;
#                   exports PGHOST PGPORT PGUSER PGDATABASE and PG_DSN
#   pg_sql "SQL"    run SQL through psql, stop at the first error
#   pg_stop DIR     stop it (fast shutdown)
# The server listens on no TCP port at all.  As root it runs as the
# `postgres` OS user, since postgres refuses to run as root.  Failures are
# loud: the initdb or server log goes to stderr.

pg__bindir() {
	if [ -n "${PG_BIN:-}" ]; then
		printf '%s\n' "$PG_BIN"
		return 0
	fi
	# Highest installed major version.
	_pg_d=
	for _pg_d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
		:
	done
	if [ -z "${_pg_d:-}" ] || [ ! -x "$_pg_d/initdb" ]; then
		echo "pg.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (set PG_BIN)" >&2
		return 1
	fi
	printf '%s\n' "$_pg_d"
}

# Run a command as the cluster's owner: `postgres` when we are root.
pg__as_owner() {
	if [ "$(id -u)" = 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c '"$0" "$@"' -- "$@"
		fi
	else
		"$@"
	fi
}

# As root, every ancestor of DIR must be searchable by postgres (mktemp -d
# makes 0700 directories); open the ones that are not, and only those.
pg__open_path() {
	_pg_p=$(dirname "$1")
	while [ "$_pg_p" != / ] && [ -n "$_pg_p" ]; do
		if ! pg__as_owner test -x "$_pg_p"; then
			chmod o+x "$_pg_p" || return 1
		fi
		_pg_p=$(dirname "$_pg_p")
	done
}

pg_start() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		echo "usage: pg_start DIR" >&2
		return 2
	fi
	case $1 in
	/*) _pg_dir=$1 ;;
	*) _pg_dir=$(pwd)/$1 ;;
	esac
	case $_pg_dir in
	*[\'\"\ \\]*)
		echo "pg_start: directory name must not contain quotes, spaces or backslashes: $_pg_dir" >&2
		return 2 ;;
	esac
	# The socket path (DIR/.s.PGSQL.PORT) must fit in sun_path (108 bytes).
	if [ ${#_pg_dir} -gt 90 ]; then
		echo "pg_start: directory path too long for a Unix socket: $_pg_dir" >&2
		return 2
	fi
	_pg_bin=$(pg__bindir) || return 1
	mkdir -p "$_pg_dir" || return 1
	if [ "$(id -u)" = 0 ]; then
		pg__open_path "$_pg_dir" || return 1
		chown postgres: "$_pg_dir" || return 1
	fi
	chmod 0700 "$_pg_dir" || return 1

	if ! (cd "$_pg_dir" && pg__as_owner "$_pg_bin/initdb" -D "$_pg_dir/data" \
	    -A trust -U postgres -E UTF8 --locale=C --no-sync) \
	    >"$_pg_dir/initdb.log" 2>&1; then
		echo "pg_start: initdb failed in $_pg_dir/data:" >&2
		cat "$_pg_dir/initdb.log" >&2
		return 1
	fi

	# The socket lives in a private directory, so any port number is free
	# there; vary it anyway so two clusters never share SysV IPC keys.
	_pg_port=$((54000 + $$ % 1000))
	if ! (cd "$_pg_dir" && pg__as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" \
	    -l "$_pg_dir/server.log" -w -t 60 \
	    -o "-c listen_addresses='' -k '$_pg_dir' -p $_pg_port -c fsync=off" \
	    start) >"$_pg_dir/pg_ctl.log" 2>&1; then
		echo "pg_start: server failed to start in $_pg_dir:" >&2
		cat "$_pg_dir/pg_ctl.log" "$_pg_dir/server.log" >&2 2>/dev/null
		return 1
	fi
	printf '%s\n' "$_pg_port" >"$_pg_dir/port"

	PGHOST=$_pg_dir
	PGPORT=$_pg_port
	PGUSER=postgres
	PGDATABASE=postgres
	PG_DSN="host=$_pg_dir port=$_pg_port user=postgres dbname=postgres"
	export PGHOST PGPORT PGUSER PGDATABASE PG_DSN
}

pg_stop() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		echo "usage: pg_stop DIR" >&2
		return 2
	fi
	case $1 in
	/*) _pg_dir=$1 ;;
	*) _pg_dir=$(pwd)/$1 ;;
	esac
	[ -f "$_pg_dir/data/postmaster.pid" ] || return 0
	_pg_bin=$(pg__bindir) || return 1
	(cd "$_pg_dir" && pg__as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" \
	    -m fast -w -t 60 stop) >/dev/null 2>"$_pg_dir/pg_stop.log" || {
		echo "pg_stop: could not stop the server in $_pg_dir:" >&2
		cat "$_pg_dir/pg_stop.log" >&2
		return 1
	}
}

pg_sql() {
	_pg_bin=$(pg__bindir) || return 1
	printf '%s\n' "$*" | "$_pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 \
	    -h "$PGHOST" -p "$PGPORT" -U "${PGUSER:-postgres}" \
	    -d "${PGDATABASE:-postgres}" -f -
}
