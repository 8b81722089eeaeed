# tests/bench/lib.sh -- what the benchmarks share, sourced by tests/bench/run
# and tests/bench/soak: helpers, and bench_setup, which starts a private
# PostgreSQL 15 and a rosterd of its own in a temporary directory on free
# ports (or uses BENCH_DATABASE / BENCH_ROSTERD, see tests/bench/run),
# creates the event $event through the protocol, and stops everything at
# exit. The caller sets top, build, rosterd, loadgen, pgbin, secs, conns,
# idle_n, log_level and event first.

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# listening PORT: true when a TCP socket listens on PORT (read from /proc:
# no probe connection).
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port: a port no socket uses (in any state), below the ephemeral
# range so that no outgoing connection takes it meanwhile.
free_port() {
	local p hex
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		hex=$(printf '%04X' "$p")
		awk -v p=":$hex" 'substr($2, length($2) - 4) == p { f = 1 }
			END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null ||
			{ echo "$p"; return 0; }
	done
	die "no free port found"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# bench_connect: a session of our own through openssl s_client, logged
# in as $user; ask LINE sends a request and sets $reply to its final line;
# bench_disconnect ends the session.
bench_connect() {
	local qpw
	coproc TLS { exec timeout 120 openssl s_client -connect "$host:$port" \
		-CAfile "$ca" -quiet -verify_return_error 2>/dev/null; }
	qpw=$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')
	ask ""
	[[ $reply == OK* ]] || die "rosterd greets with: $reply"
	ask "LOGIN user=$user password=\"$qpw\""
	[[ $reply == "OK user="* ]] || die "LOGIN $user: $reply"
}

ask() {	# ask LINE: send it, set $reply to the final line of the answer
	[ -z "$1" ] || printf '%s\n' "$1" >&"${TLS[1]}"
	while IFS= read -r -t 30 reply <&"${TLS[0]}"; do
		reply=${reply%$'\r'}
		case $reply in
		OK | "OK "* | "ERR "*) return 0 ;;
		esac
	done
	reply="(no answer)"
}

bench_disconnect() {
	ask "QUIT"
	# bash unsets TLS_PID once the coprocess has ended
	[ -z "${TLS_PID:-}" ] || wait "$TLS_PID" 2>/dev/null || true
}

# bench_setup: the programs, the descriptors, PostgreSQL, rosterd and the
# event (its body is not indented: it holds here-documents).
bench_setup() {
# --- programs ---------------------------------------------------------------
if [ -z "${LOADGEN:-}" ] && [ -f "$build/Makefile" ]; then
	make -s -C "$build" tests/bench/loadgen >&2 || die "cannot build loadgen"
fi
[ -x "$loadgen" ] || die "$loadgen not found (make tests/bench/loadgen in build/)"
command -v openssl >/dev/null || die "openssl not found"

# Descriptors for 1,000+ connections, for rosterd and loadgen both.
want_nofile=$((idle_n + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_nofile" ]; then
	hard=$(ulimit -H -n)
	if [ "$hard" = unlimited ] || [ "$hard" -ge "$want_nofile" ]; then
		ulimit -n "$want_nofile"
	else
		ulimit -n "$hard"
		say "warning: ulimit -n is at most $hard; $want_nofile wanted"
	fi
fi

tmp=$(mktemp -d /tmp/roster-bench.XXXXXX)
chmod 755 "$tmp"	# the postgres user walks through it
as_root=0
[ "$(id -u)" = 0 ] && as_root=1
pg_data=
rosterd_pid=
idle_pid=

pg() {
	local p=$1
	shift
	if [ $as_root = 1 ]; then
		(cd / && runuser -u postgres -- "$pgbin/$p" "$@")
	else
		"$pgbin/$p" "$@"
	fi
}

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$idle_pid" ]; then
		kill "$idle_pid" 2>/dev/null || true
		wait "$idle_pid" 2>/dev/null || true
	fi
	if [ -n "$rosterd_pid" ] && kill -0 "$rosterd_pid" 2>/dev/null; then
		kill -TERM "$rosterd_pid" 2>/dev/null || true
		for _ in $(seq 150); do
			kill -0 "$rosterd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$rosterd_pid" 2>/dev/null || true
		wait "$rosterd_pid" 2>/dev/null || true
	fi
	if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
		pg pg_ctl -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL ---------------------------------------------------------------
if [ -n "${BENCH_DATABASE:-}" ]; then
	database=$BENCH_DATABASE
	pgbench_conn=("$database")
elif [ -z "${BENCH_ROSTERD:-}" ]; then
	[ -x "$pgbin/initdb" ] || die "PostgreSQL 15 not found in $pgbin"
	mkdir "$tmp/pg"
	[ $as_root = 1 ] && chown postgres:postgres "$tmp/pg"
	pg_data=$tmp/pg/data
	pg_port=$(free_port)
	say "PostgreSQL: initdb, port $pg_port"
	pg initdb -D "$pg_data" -E UTF8 --locale=C.UTF-8 -A trust -U postgres \
		--no-sync >"$tmp/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$tmp/initdb.log")"
	cat >>"$pg_data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/pg'
port = $pg_port
max_connections = 100
log_min_messages = warning
# rosterd reads its notifications from a replication slot (daemon/feed.c)
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = '1GB'
EOF
	pg pg_ctl -D "$pg_data" -l "$tmp/pg/postgres.log" -w -t 60 start >/dev/null ||
		die "PostgreSQL did not start: $(tail -5 "$tmp/pg/postgres.log")"
	"$pgbin/psql" -X -q -h "$tmp/pg" -p "$pg_port" -U postgres -d postgres \
		-c 'CREATE DATABASE roster'
	database="host=$tmp/pg port=$pg_port dbname=roster user=postgres"
	pgbench_conn=(-h "$tmp/pg" -p "$pg_port" -U postgres roster)
else
	database=
	pgbench_conn=()
fi

# --- rosterd ---------------------------------------------------------------------
password=${ROSTER_PASSWORD:-}
if [ -n "${BENCH_ROSTERD:-}" ]; then
	host=${BENCH_ROSTERD%:*}
	host=${host#[}
	host=${host%]}
	port=${BENCH_ROSTERD##*:}
	ca=${BENCH_CA:?set BENCH_CA to the CA of $BENCH_ROSTERD}
	user=${BENCH_USER:?set BENCH_USER}
	[ -n "$password" ] || die "set ROSTER_PASSWORD to $user's password"
	auth=(-u "$user")
	rosterd_pid=
	watch_pid=${BENCH_ROSTERD_PID:-}
else
	[ -x "$rosterd" ] || die "$rosterd not found (make in build/)"
	host=127.0.0.1
	port=$(free_port)
	ca=$tmp/tls/ca.crt
	user=bench
	password=$(openssl rand -base64 18)
	bash "$top/deploy/gen-certs" --dir "$tmp/tls" --client "$user" >/dev/null
	cat >"$tmp/rosterd.conf" <<EOF
listen = 127.0.0.1:$port
cert = $tmp/tls/server.crt
key = $tmp/tls/server.key
database = $database
max_connections = $((idle_n + 1000))
max_connections_per_address = $((idle_n + 1000))
client_ca = $tmp/tls/ca.crt
log_level = $log_level
${BENCH_DB_CONNECTIONS:+db_connections = $BENCH_DB_CONNECTIONS}
EOF
	"$rosterd" -c "$tmp/rosterd.conf" --migrate >"$tmp/migrate.log" 2>&1 ||
		die "rosterd --migrate failed: $(tail -5 "$tmp/migrate.log")"
	ROSTER_PASSWORD=$password "$rosterd" -c "$tmp/rosterd.conf" \
		--add-user "$user" --role admin >/dev/null ||
		die "rosterd --add-user failed"
	say "rosterd on 127.0.0.1:$port (log_level $log_level)"
	"$rosterd" -c "$tmp/rosterd.conf" -f 2>"$tmp/rosterd.log" &
	rosterd_pid=$!
	watch_pid=$rosterd_pid
	# loadgen logs in by certificate: many password logins of one user at
	# once are refused past the fifth (PROTOCOL.md section 4)
	auth=(--cert "$tmp/tls/$user.crt" --key "$tmp/tls/$user.key")
	for _ in $(seq 100); do
		listening "$port" && break
		kill -0 "$rosterd_pid" 2>/dev/null ||
			die "rosterd did not start: $(tail -5 "$tmp/rosterd.log")"
		sleep 0.1
	done
fi
export ROSTER_PASSWORD=$password

# The event, through the protocol (CONFLICT: it is there already).
bench_connect
ask "EVENT CREATE code=$event title=\"Benchmark event\" city=Vienna country=AT starts=2026-01-01 ends=2026-01-02"
[[ $reply == OK* || $reply == "ERR CONFLICT"* ]] || die "EVENT CREATE: $reply"
bench_disconnect

rss_start=
if [ -n "${watch_pid:-}" ] && [ -r "/proc/$watch_pid/status" ]; then
	rss_start=$(rss_kb "$watch_pid")
fi

}
