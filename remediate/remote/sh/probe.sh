# The host probes (see probe.py), each one record: "INDEX RC OUTPUT_B64". Set by the generated part:
# MAX_CAPTURE, the most bytes of a probe's output or file sent back.
LC_ALL=C; export LC_ALL
nl='
'
# probe_command INDEX TIMEOUT COMMAND. No pipe after the command: $? must be the command's own exit
# status. timeout leads a process group of its own: once the command has ended (or been ended at its
# deadline) the whole group goes, so a child it left holding the output open ("(sleep 20 &)") can hold
# up neither the answer nor the host. The status comes last, on a line of its own.
probe_command() {
  o=$(timeout -k 1 "$2" sh -c "$3" 2>&1 </dev/null & p=$!; wait "$p"; r=$?; kill -KILL -"$p" 2>/dev/null; printf '\n%s' "$r")
  r=${o##*"$nl"}; o=${o%"$nl"*}
  printf '%s %s %s\n' "$1" "$r" "$(printf '%s' "$o" | head -c "$MAX_CAPTURE" | base64 -w0)"
}
# probe_file INDEX PATH: RC 0 and its bytes when it can be read, else 1.
probe_file() {
  if [ -f "$2" ] && [ -r "$2" ]; then
    printf '%s 0 %s\n' "$1" "$(head -c "$MAX_CAPTURE" -- "$2" | base64 -w0)"
  else printf '%s 1 \n' "$1"
  fi
}
