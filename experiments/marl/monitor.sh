#!/usr/bin/env bash
# Watch a training box from your own machine: status of its runs, then TensorBoard forwarded here.
# Written for bash 3.2 too (macOS), so empty arrays are expanded with ${a[@]+"${a[@]}"}.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: monitor.sh HOST [--dir DIR] [--port N] [--local-port N] [--no-forward] [--help]

Print the status of training on HOST, then forward its TensorBoard (port 6006) to
http://localhost:LOCAL_PORT until Ctrl-C, starting TensorBoard there if none runs.
The status shows, from DIR/experiments/marl on HOST:
  - each run's latest status line ("step N/M ..."), newest first, read from the trainer's
    runs/RUN/train.log or else from runs/RUN.log, the console log that the commands in
    experiments/marl/README.md write; runs without either log are listed by name
  - trainer processes, GPU utilisation (when nvidia-smi exists there), newest checkpoints

  HOST              an SSH config alias or user@host
  --dir DIR         project directory on HOST, relative to the remote home or absolute
                    (default: bucket-brigade)
  --port N          SSH port (default: ssh's own, usually 22 or the alias's Port)
  --local-port N    local port for TensorBoard (default: 6006)
  --no-forward      print the status and exit: no TensorBoard, no forwarding
  --help            show this help

Extra ssh options, whitespace-separated, come from BB_SSH_OPTS
(e.g. BB_SSH_OPTS="-i ~/.ssh/gpu_key"). Needs bash on HOST.
Exit status: 0 done, 1 unreachable host or no project there, 2 bad usage.
EOF
}

# printable(), one_line(): text from HOST (or the command line) made safe for this terminal.
. "$(dirname "${BASH_SOURCE[0]}")/printable.sh"
die() { printf '%s\n' "monitor: $1" | one_line >&2; exit "${2:-1}"; }
need_value() { [ "$2" -ge 2 ] || die "$1 needs a value (see --help)" 2; }

host="" dir="bucket-brigade" port="" local_port=6006 forward=1
positional=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --dir) need_value "$1" "$#"; dir=$2; shift 2 ;;
        --port) need_value "$1" "$#"; port=$2; shift 2 ;;
        --local-port) need_value "$1" "$#"; local_port=$2; shift 2 ;;
        --no-forward) forward=0; shift ;;
        --) shift; positional+=("$@"); break ;;
        -*) die "unknown option '$1' (valid: --dir, --port, --local-port, --no-forward, --help)" 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
[ "${#positional[@]}" -eq 1 ] || die "expected one HOST, got ${#positional[@]} arguments (see --help)" 2
host=${positional[0]}
case "$host" in "" | -*) die "bad HOST '$host': give an SSH alias or user@host" 2 ;; esac
case "$port" in *[!0-9]*) die "bad --port '$port': give a number" 2 ;; esac
case "$local_port" in "" | *[!0-9]*) die "bad --local-port '$local_port': give a number" 2 ;; esac
[ -n "$dir" ] || die "--dir is empty" 2

# The value as one single-quoted word for the remote POSIX shell.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

read -r -a extra_ssh_opts <<<"${BB_SSH_OPTS:-}"
ssh_opts=(${extra_ssh_opts[@]+"${extra_ssh_opts[@]}"} -o ConnectTimeout=10)
[ -z "$port" ] || ssh_opts+=(-p "$port")

# Runs on HOST under bash with $1 = project directory, $2 = 1 to start TensorBoard.
# Everything goes to stdout, so the local side keeps ssh's own stderr for its error line.
read -r -d '' remote_status <<'EOF' || true  # read's exit 1 at the end of the text
exec 2>&1
dir=$1 start_tensorboard=$2
cd -- "$dir" 2>/dev/null || exit 3
marl=experiments/marl
shopt -s nullglob

ago() {
    local s=$(( $(date +%s) - $1 ))
    if ((s < 120)); then echo "${s}s"; elif ((s < 7200)); then echo "$((s / 60))m"
    elif ((s < 172800)); then echo "$((s / 3600))h"; else echo "$((s / 86400))d"; fi
}
# A run's log: the trainer's own runs/RUN/train.log, else the console log runs/RUN.log.
log_of() {
    if [ -f "$marl/runs/$1/train.log" ]; then echo "$marl/runs/$1/train.log"
    elif [ -f "$marl/runs/$1.log" ]; then echo "$marl/runs/$1.log"; fi
}
# The latest status line ("step N/M ..."), then the last line if that differs (finished
# or crashed), with progress-bar carriage returns, colours and padding undone.
show_status() {
    local text step last
    text=$(tail -c 65536 -- "$1" | tr "\r" "\n" | sed "s/\x1b\[[0-9;?]*[A-Za-z]//g" |
        sed "s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d" | tr -s " ")
    step=$(printf "%s\n" "$text" | grep "^step " | tail -n 1)
    last=$(printf "%s\n" "$text" | tail -n 1)
    echo "${step:-$last}"
    if [ -n "$step" ] && [ "$step" != "$last" ]; then echo "    last line: $last"; fi
}

echo "== $HOSTNAME:$PWD/$marl"
echo "-- TensorBoard"
if (exec 3<>/dev/tcp/127.0.0.1/6006) 2>/dev/null; then
    echo "running on port 6006"
elif [ "$start_tensorboard" != 1 ]; then
    echo "not running on port 6006"
elif [ -x .venv/bin/tensorboard ]; then
    mkdir -p "$marl/runs"
    # Loopback only: it is reached through the SSH tunnel, not exposed to the network.
    nohup .venv/bin/tensorboard --logdir "$marl/runs" --port 6006 --host 127.0.0.1 \
        >"$marl/tensorboard.log" 2>&1 </dev/null &
    echo "started on port 6006 (log: $marl/tensorboard.log; ready in a few seconds)"
else
    echo "not running, and no .venv/bin/tensorboard: run experiments/marl/setup_gpu.sh there"
fi

echo "-- Runs (newest log first)"
with_log=() without_log=()
while IFS= read -r -d "" run; do
    log=$(log_of "$run")
    if [ -n "$log" ]; then with_log+=("$(stat -c %Y -- "$log") $run"); else without_log+=("$run"); fi
done < <(
    for entry in "$marl"/runs/*/ "$marl"/runs/*.log; do
        entry=${entry%/}
        [ -d "$entry" ] && printf "%s\0" "${entry##*/}"
        [ -f "$entry" ] && entry=${entry##*/} && printf "%s\0" "${entry%.log}"
    done | sort -zu)
if ((${#with_log[@]})); then
    printf "%s\0" "${with_log[@]}" | sort -z -rn | while IFS= read -r -d "" entry; do
        run=${entry#* }
        printf "%s [%s ago]: " "$run" "$(ago "${entry%% *}")"
        show_status "$(log_of "$run")"
    done
fi
if ((${#without_log[@]})); then
    echo "without a log: $(printf "%s, " "${without_log[@]}" | sed "s/, $//")"
elif ((${#with_log[@]} == 0)); then
    echo "(no runs in $marl/runs)"
fi

echo "-- Trainer processes"
if command -v pgrep >/dev/null; then
    pgrep -af "train_gpu[.]py|bucket-brigade train" || echo "none"
else
    echo "(pgrep not installed)"
fi

echo "-- GPU"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total \
        --format=csv,noheader || echo "nvidia-smi failed"
else
    echo "no GPU (nvidia-smi not found)"
fi

echo "-- Newest checkpoints and models"
{
    find "$marl/checkpoints" -type f -name "*.pt" \
        -printf "%T@\t%TY-%Tm-%Td %TH:%TM\t%s\tcheckpoints/%P\n" 2>/dev/null
    find "$marl" -maxdepth 1 -type f -name "model_*.pt" -printf "%T@\t%TY-%Tm-%Td %TH:%TM\t%s\t%f\n"
} | sort -rn | head -n 5 | awk -F '\t' '{ printf "%s %9.1f MB  %s\n", $2, $3 / 1e6, $4 }' |
    grep . || echo "(none yet)"
EOF

start_tensorboard=$forward
status=0
# The status goes to stdout through printable(); ssh's own stderr is kept for a one-line error.
err_file=$(mktemp "${TMPDIR:-/tmp}/monitor.XXXXXX")
trap 'rm -f -- "$err_file"' EXIT
report=$(ssh "${ssh_opts[@]}" -- "$host" "bash -s -- $(quote "$dir") $start_tensorboard" \
    <<<"$remote_status" 2>"$err_file") || status=$?
err=$(cat -- "$err_file")
rm -f -- "$err_file"
[ -z "$report" ] || printf "%s\n" "$report" | printable
case "$status" in
    0) ;;
    255) die "cannot reach $host over SSH${port:+ (port $port)}: $(printf '%s\n' "$err" |
        sed '/^[[:space:]]*$/d' | tail -n 1)" ;;
    3) die "no directory $dir on $host (set --dir to the project's directory there)" ;;
    *) die "status check on $host failed (exit $status)" ;;
esac
[ "$forward" -eq 1 ] || exit 0

echo "TensorBoard: http://localhost:$local_port (forwarding to $host:6006; Ctrl-C to stop)" | printable
exec ssh "${ssh_opts[@]}" -N -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$local_port:127.0.0.1:6006" -- "$host"
