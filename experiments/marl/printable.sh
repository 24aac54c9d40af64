# Sourced by monitor.sh and sync_results.sh: text from a training box, from ssh or from the
# command line made safe for this terminal.

# Escape sequences removed whole (CSI colours, OSC window titles and clipboard writes,
# DCS/APC strings), then every other control character but tab and newline, including the
# 8-bit C1 controls in their UTF-8 form.
printable() {
    local esc bel c2 c1_first c1_last
    esc=$(printf '\033') bel=$(printf '\007') c2=$(printf '\302')
    c1_first=$(printf '\200') c1_last=$(printf '\237')
    LC_ALL=C sed -E \
        -e "s/${esc}\][^${bel}${esc}]*(${bel}|${esc}\\\\)?//g" \
        -e "s/${esc}[PX^_][^${esc}]*(${esc}\\\\)?//g" \
        -e "s/${esc}\[[0-?]*[ -\/]*[@-~]?//g" \
        -e "s/${esc}[ -\/]*.?//g" \
        -e "s/${c2}[${c1_first}-${c1_last}]//g" |
        LC_ALL=C tr -d '\000-\010\013-\037\177'
}

# One printable line: printable(), with tabs and newlines (from a HOST or a RUN that holds
# them, or a message of several lines) made spaces.
one_line() {
    printable | tr '\t\n' '  ' | sed 's/ *$//'
    echo
}
