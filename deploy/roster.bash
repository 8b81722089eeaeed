# roster.bash -- bash completion for roster, the CLI of rosterd.
#
# Installed as "roster" in bash-completion's directory, so that it loads
# the first time roster is completed; or source it from ~/.bashrc.
#
# The options, the verbs (shell, import, export, watch), the import kinds
# and the values of --format are known here. The server's commands, their
# keys and the choices of enumerated keys come from the server itself:
# "roster -f records HELP" (HELP needs no login), with the connection
# options already on the line (--config, --host, --port, --ca, --cert,
# --key), asked once per shell and those options, with a short time-out.
# Without a server only the static part completes.

_roster_help=
_roster_help_for=

# _roster_fetch_help PROG ARGS...: the HELP records of the server that the
# connection options ARGS name, cached in _roster_help.
_roster_fetch_help()
{
	local prog=$1
	shift
	local key="$prog $*"

	[[ $_roster_help_for == "$key" && -n $_roster_help ]] && return 0
	_roster_help_for=$key
	_roster_help=$(ROSTER_PASSWORD= timeout "${ROSTER_COMPLETION_TIMEOUT:-3}" \
	    "$prog" "$@" --format records HELP </dev/null 2>/dev/null |
	    sed -n 's/^\* //p')
}

# _roster_field NAME LINE: the value of NAME=... in one HELP record.
_roster_field()
{
	local v=" $2"
	case $v in
	*" $1=\""*)
		v=${v#*" $1=\""}
		v=${v%%\"*}
		;;
	*" $1="*)
		v=${v#*" $1="}
		v=${v%% *}
		;;
	*)
		v=
		;;
	esac
	printf '%s\n' "$v"
}

# _roster_commands: every command's words, one command a line.
_roster_commands()
{
	local line
	while IFS= read -r line; do
		[[ -n $line ]] && _roster_field command "$line"
	done <<<"$_roster_help"
}

# _roster_keys COMMAND: that command's keys= field.
_roster_keys()
{
	local line
	while IFS= read -r line; do
		if [[ $(_roster_field command "$line") == "$1" ]]; then
			_roster_field keys "$line"
			return 0
		fi
	done <<<"$_roster_help"
}

# _roster_key_words COMMAND: "key=" for each key, with dry_run= when the
# command takes it.
_roster_key_words()
{
	local k line
	for k in $(_roster_keys "$1"); do
		printf '%s=\n' "${k%%:*}"
	done
	while IFS= read -r line; do
		if [[ $(_roster_field command "$line") == "$1" &&
			$(_roster_field dry_run "$line") == yes ]]; then
			printf 'dry_run=\n'
		fi
	done <<<"$_roster_help"
}

# _roster_choices COMMAND KEY: the choices of an enumerated key.
_roster_choices()
{
	local k c
	[[ $2 == dry_run ]] && { printf 'yes\n'; return 0; }
	# the server sends CSV or TSV; roster export writes XLSX itself
	[[ $1 == EXPORT && $2 == format ]] &&
	    { printf '%s\n' csv tsv xlsx; return 0; }
	for k in $(_roster_keys "$1"); do
		[[ ${k%%:*} == "$2" ]] || continue
		case $k in
		*:choices=*)
			c=${k#*:choices=}
			c=${c%%:*}
			printf '%s\n' ${c//|/ }
			;;
		esac
	done
}

_roster()
{
	local line=${COMP_LINE-}
	local -a all
	local cur prev= prog i w words=() conn=() skip=0 verb= cmd=
	local opts="-H --host -p --port --ca --cert --key -u --user -c --config
		-f --format -e --event -o --output -n --dry-run -x --expanded
		--no-pager --title --no-email --long --layout --journal --replay --encoding
		--map --ignore-unknown -h --help
		-V --version"
	local verbs="shell import export badges watch checkin-desk"
	local kinds="parties delegations participants sessions speakers"

	# The words up to the cursor, split at blanks only: bash's own
	# COMP_WORDS splits "key=value" at "=" (COMP_WORDBREAKS).
	[[ -n $line ]] || line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
	line=${line:0:${COMP_POINT:-${#line}}}
	read -r -a all <<<"$line"
	[[ $line == *[[:blank:]] ]] && all+=("")
	((${#all[@]} > 0)) || all=(roster "")
	prog=${all[0]}
	cur=${all[${#all[@]} - 1]}
	((${#all[@]} > 2)) && prev=${all[${#all[@]} - 2]}
	COMPREPLY=()

	# The words before the cursor: connection options kept for HELP,
	# the rest (the verb or command words, key=value) in words.
	for ((i = 1; i < ${#all[@]} - 1; i++)); do
		w=${all[i]}
		if ((skip)); then
			skip=0
			continue
		fi
		case $w in
		-H | --host | -p | --port | --ca | --cert | --key | -c | --config)
			conn+=("$w" "${all[i + 1]}")
			skip=1
			;;
		-u | --user | -f | --format | -e | --event | -o | --output | \
			--layout)
			skip=1
			;;
		--*=*)
			case ${w%%=*} in
			--host | --port | --ca | --cert | --key | --config)
				conn+=("$w")
				;;
			esac
			;;
		-*) ;;
		*) words+=("$w") ;;
		esac
	done

	case $prev in
	-f | --format)
		COMPREPLY=($(compgen -W "table records csv json" -- "$cur"))
		return 0
		;;
	--encoding)
		COMPREPLY=($(compgen -W "cp1252 latin1 iso-8859-15 utf-16 mac" \
			-- "$cur"))
		return 0
		;;
	-c | --config | --ca | --cert | --key | -o | --output | --journal | \
		--replay)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--layout)
		COMPREPLY=($(compgen -W "a6 a4-8" -- "$cur"))
		return 0
		;;
	-H | --host)
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		return 0
		;;
	-p | --port | -u | --user | -e | --event | --title | --map)
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi

	verb=${words[0]:-}
	case ${verb,,} in
	shell)
		return 0
		;;
	import)
		if ((${#words[@]} == 1)); then
			COMPREPLY=($(compgen -W "$kinds" -- "$cur"))
		elif ((${#words[@]} == 2)); then
			COMPREPLY=($(compgen -f -- "$cur"))
			compopt -o filenames 2>/dev/null
		fi
		return 0
		;;
	export)
		_roster_fetch_help "$prog" "${conn[@]}"
		if ((${#words[@]} == 1)) && [[ $cur != *=* ]]; then
			COMPREPLY=($(compgen -W "$(_roster_choices EXPORT what)" \
			    -- "$cur"))
			return 0
		fi
		cmd=EXPORT
		;;
	badges)
		# EXPORT what=participants's keys, and id=
		cmd=EXPORT
		;;
	watch)
		cmd=WATCH
		;;
	esac

	_roster_fetch_help "$prog" "${conn[@]}"
	local nwords=0 c one lower=0
	[[ $cur == [a-z]* ]] && lower=1
	# How many of the words are command words (no "=").
	for w in "${words[@]}"; do
		[[ $w == *=* ]] && break
		nwords=$((nwords + 1))
	done
	if [[ -n $cmd ]]; then
		nwords=-1
	elif ((nwords == 0)) && [[ $cur != *=* ]]; then
		# the first word: a verb or the first word of a command
		c=$(_roster_commands | sed 's/ .*//' | sort -u)
		((lower)) && c=${c,,}
		COMPREPLY=($(compgen -W "$verbs $c" -- "$cur"))
		return 0
	fi
	if [[ -z $cmd ]]; then
		cmd=${words[*]:0:nwords}
		cmd=${cmd^^}
	fi
	if ((nwords == 1)) && [[ $cur != *=* ]]; then
		# a second command word, when the first takes one
		c=$(_roster_commands | while IFS= read -r one; do
			[[ $one == "$cmd "* ]] && printf '%s\n' "${one#* }"
		done)
		if [[ -n $c ]]; then
			((lower)) && c=${c,,}
			COMPREPLY=($(compgen -W "$c" -- "$cur"))
			return 0
		fi
	fi
	if [[ $cur == *=* ]]; then
		COMPREPLY=($(compgen -W "$(_roster_choices "$cmd" "${cur%%=*}")" \
		    -- "${cur#*=}"))
		# What bash replaces: the whole key=value, the "=" alone, or
		# the value after it (COMP_WORDBREAKS holds "=").
		case ${COMP_WORDS[COMP_CWORD]-} in
		"$cur") COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}") ;;
		=) COMPREPLY=("${COMPREPLY[@]/#/=}") ;;
		esac
		return 0
	fi
	c=$(_roster_key_words "$cmd")
	# export names WHAT as its first argument, not as what=
	[[ $cmd == EXPORT ]] && c=$(grep -vx 'what=' <<<"$c")
	[[ ${verb,,} == badges ]] &&
		c=$(grep -vx 'format=' <<<"$c"; echo id=)
	COMPREPLY=($(compgen -W "$c" -- "$cur"))
	compopt -o nospace 2>/dev/null
	return 0
}

complete -F _roster roster
