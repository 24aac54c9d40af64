#!/usr/bin/env bash
# Copy training results (TensorBoard runs, checkpoints, final models) back from a training box.
# Written for bash 3.2 too (macOS), so empty arrays are expanded with ${a[@]+"${a[@]}"}.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: sync_results.sh HOST [RUN] [--dir DIR] [--port N] [--dest LOCAL_DIR] [--help]

Copy runs/ (TensorBoard runs and console logs), checkpoints/ and model_*.pt from
DIR/experiments/marl on HOST into LOCAL_DIR, all runs or only RUN, with rsync over SSH. Re-running copies only what changed, and a
transfer that was cut off resumes where it stopped.

  HOST              an SSH config alias or user@host
  RUN               one run name (put `--` before a name that starts with a dash)
  --dir DIR         project directory on HOST, relative to the remote home or absolute
                    (default: bucket-brigade)
  --port N          SSH port (default: ssh's own, usually 22 or the alias's Port)
  --dest LOCAL_DIR  where results land (default: this script's directory, experiments/marl)
  --help            show this help

Extra ssh options, whitespace-separated, come from BB_SSH_OPTS
(e.g. BB_SSH_OPTS="-i ~/.ssh/gpu_key"). Needs rsync >= 3.0 on both ends.
Exit status: 0 done, 1 unreachable host or failed copy, 2 bad usage.
EOF
}

# printable(), one_line(): text from HOST (or the command line) made safe for this terminal.
. "$(dirname "${BASH_SOURCE[0]}")/printable.sh"
die() { printf '%s\n' "sync_results: $1" | one_line >&2; exit "${2:-1}"; }
need_value() { [ "$2" -ge 2 ] || die "$1 needs a value (see --help)" 2; }

host="" run="" dir="bucket-brigade" port="" dest=""
positional=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --dir) need_value "$1" "$#"; dir=$2; shift 2 ;;
        --port) need_value "$1" "$#"; port=$2; shift 2 ;;
        --dest) need_value "$1" "$#"; dest=$2; shift 2 ;;
        --) shift; positional+=("$@"); break ;;
        -*) die "unknown option '$1' (valid: --dir, --port, --dest, --help)" 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
case "${#positional[@]}" in
    1) host=${positional[0]} ;;
    2) host=${positional[0]} run=${positional[1]} ;;
    *) die "expected HOST [RUN], got ${#positional[@]} arguments (see --help)" 2 ;;
esac
case "$host" in "" | -*) die "bad HOST '$host': give an SSH alias or user@host" 2 ;; esac
case "$port" in *[!0-9]*) die "bad --port '$port': give a number" 2 ;; esac
# An empty RUN is a mistake (an unset variable), not every run: that is no RUN at all.
if [ "${#positional[@]}" -eq 2 ]; then
    case "$run" in
        "" | */* | . | ..) die "bad RUN '$run': give a run's directory name under runs/" 2 ;;
    esac
fi
[ -n "$dir" ] || die "--dir is empty" 2
dest=${dest:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
if [ -e "$dest" ] && [ ! -d "$dest" ]; then
    die "bad --dest '$dest': it exists and is not a folder" 2
fi

# The value as one single-quoted word for the remote POSIX shell.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

read -r -a extra_ssh_opts <<<"${BB_SSH_OPTS:-}"
ssh_opts=(${extra_ssh_opts[@]+"${extra_ssh_opts[@]}"} -o ConnectTimeout=10)
[ -z "$port" ] || ssh_opts+=(-p "$port")
remote="$dir/experiments/marl"

# Check the host, the directory, rsync and the run first, so each failure is one clear line.
probe="cd $(quote "$remote") || exit 3; command -v rsync >/dev/null || exit 4"
if [ -n "$run" ]; then
    q=$(quote "$run")
    probe="$probe; for f in runs/$q runs/$q.log checkpoints/$q model_$q.pt; do"
    probe="$probe [ -e \"\$f\" ] && exit 0; done"
    probe="$probe; ls runs | sed 's/[.]log\$//' | sort -u | sed 's/^/run: /' >&2; exit 5"
fi
status=0
err=$(ssh "${ssh_opts[@]}" -- "$host" "$probe" 2>&1 >/dev/null) || status=$?
last_line=$(printf '%s\n' "$err" | sed '/^[[:space:]]*$/d' | tail -n 1)
case "$status" in
    0) ;;
    255) die "cannot reach $host over SSH${port:+ (port $port)}: ${last_line:-ssh failed}" ;;
    3) die "no $remote on $host (set --dir to the project's directory there)" ;;
    4) die "rsync is not installed on $host (install it there, e.g. apt-get install rsync)" ;;
    5) die "no run '$run' on $host (runs there: $(printf '%s\n' "$err" | sed -n 's/^run: //p' |
        paste -sd, - | sed 's/,/, /g'))" ;;
    *) die "checking $host failed (exit $status): ${last_line:-no message}" ;;
esac

# rsync filter patterns: escape wildcard characters, and always keep one wildcard in the
# pattern so that the backslashes count as escapes.
if [ -n "$run" ]; then
    pattern=$(printf '%s' "$run" | sed 's/[][*?\\]/\\&/g')
    filters=(--include=/runs/ --include="/runs/$pattern/***" --include="/runs/$pattern.l[o]g"
        --include=/checkpoints/ --include="/checkpoints/$pattern/***"
        --include="/model_$pattern.p[t]")
    what="run '$run'"
else
    filters=(--include='/runs/***' --include='/checkpoints/***' --include='/model_*.pt')
    what="all runs"
fi
mkdir -p -- "$dest" 2>/dev/null || die "cannot make --dest '$dest' (no permission there?)"
echo "sync_results: $host:$remote -> $dest ($what)" | printable
# -s sends file names through rsync's protocol, untouched by the remote shell (odd names);
# a cut-off file waits in .rsync-partial/ and resumes, so a half copy never looks complete.
status=0
rsync -az -s --partial-dir=.rsync-partial --itemize-changes \
    -e "ssh ${BB_SSH_OPTS:-} -o ConnectTimeout=10${port:+ -p $port}" \
    "${filters[@]}" --exclude='*' -- "$host:$remote/" "$dest/" 2> >(printable >&2) |
    printable || status=$?  # file names from the box, shown with control characters removed
[ "$status" -eq 0 ] || die "rsync failed (exit $status); run the same command again to resume"
echo "sync_results: done"
